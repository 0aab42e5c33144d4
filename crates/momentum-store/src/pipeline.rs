//! The pipeline: open deals by ladder step, as counts and value per currency (read from
//! the `open_pipeline` summary, never by scanning deals), and the open deals of a step
//! with their sales-cholesterol flags.
//!
//! Both honour the actor's visibility (a seller sees their own deals, a manager their
//! team's, an admin the org's) and narrow it by owner or team; asking for an owner or a
//! team outside what the actor sees is forbidden.

use std::collections::BTreeMap;

use momentum_core::cholesterol::{self, Flag};
use momentum_core::model::*;
use momentum_core::money::{Currency, Money};
use momentum_core::vocab::Role;
use momentum_core::DomainError;
use serde::Serialize;

use crate::error::StoreResult;
use crate::map;
use crate::ops::{self, DealSummary, Session, StepRef, Where};
use crate::sql::Sql;
use crate::Store;

/// Whose pipeline to show, within what the actor sees.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PipelineFilter<'a> {
    /// One owner, by e-mail.
    pub owner: Option<&'a str>,
    /// One team (the manager's own deals and their sellers'), by the manager's e-mail.
    pub team: Option<&'a str>,
}

/// One ladder step of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineStep {
    pub step: StepRef,
    /// Open deals standing on this step.
    pub deals: i64,
    /// Their value, one amount per currency (by currency code); deals without a value
    /// count as zero.
    pub value: Vec<Money>,
}

/// An open deal with its cholesterol flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineDeal {
    pub deal: DealSummary,
    pub flags: Vec<Flag>,
}

/// The filter's users, looked up and checked against what the actor sees, once for every
/// query of a view.
#[derive(Debug, Clone, Copy, Default)]
struct Narrowing {
    owner: Option<i64>,
    /// The team's manager.
    team: Option<i64>,
}

fn resolve(tx: &mut dyn Sql, s: &Session, filter: PipelineFilter<'_>) -> StoreResult<Narrowing> {
    let actor = s.actor();
    let mut n = Narrowing::default();
    if let Some(email) = filter.owner {
        let owner = ops::user_by_email(tx, s.org.id, "owner", email)?;
        if !actor.may_act_for(&owner.as_owner()) {
            return Err(DomainError::Forbidden(format!("the pipeline of {email}: {}", seen_by(actor.role))).into());
        }
        n.owner = Some(owner.id.0);
    }
    if let Some(email) = filter.team {
        let manager = ops::user_by_email(tx, s.org.id, "team", email)?;
        if manager.role != Role::Manager {
            return Err(DomainError::invalid("team", email, "a team is named by its manager's e-mail").into());
        }
        let visible = match actor.role {
            Role::Admin => true,
            Role::Manager => manager.id == actor.user,
            Role::Seller => false,
        };
        if !visible {
            return Err(
                DomainError::Forbidden(format!("the pipeline of {email}'s team: {}", seen_by(actor.role))).into(),
            );
        }
        n.team = Some(manager.id.0);
    }
    Ok(n)
}

/// Adds the actor's visibility and the resolved filter to `w` (whose table's owner is
/// joined as `u`).
fn narrow(s: &Session, n: Narrowing, w: &mut Where) {
    w.visible_to(&s.actor());
    if let Some(owner) = n.owner {
        w.and(&format!("{}.owner_id = ?", w.alias()), owner);
    }
    if let Some(manager) = n.team {
        w.and(&format!("({}.owner_id = ? OR u.manager_id = ?)", w.alias()), manager);
    }
}

fn seen_by(role: Role) -> &'static str {
    match role {
        Role::Seller => "a seller sees only their own pipeline",
        Role::Manager => "a manager sees only their team's pipeline",
        Role::Admin => "an admin sees the whole org's pipeline",
    }
}

/// Open deals and their value on every ladder step from 0 (no decision yet) to the top,
/// for the deals the actor sees, narrowed by `filter`.
pub fn pipeline(store: &mut Store, s: &Session, filter: PipelineFilter<'_>) -> StoreResult<Vec<PipelineStep>> {
    // Its statements are reads that need no shared snapshot (the filter's users, then one
    // query): on PostgreSQL, no BEGIN and COMMIT round trips around them.
    store.read_statements(|tx| {
        let n = resolve(tx, s, filter)?;
        steps_in(tx, s, n)
    })
}

/// Open deals the actor sees, narrowed by `filter` and to one `stage` if given, by id:
/// the first `limit` after `after`, each with its cholesterol flags (stale after
/// `stale_days` days without a buyer decision).
#[allow(clippy::too_many_arguments)]
pub fn pipeline_deals(
    store: &mut Store,
    s: &Session,
    filter: PipelineFilter<'_>,
    stage: Option<Step>,
    after: Option<DealId>,
    limit: u32,
    now: Now,
    stale_days: u32,
) -> StoreResult<Vec<PipelineDeal>> {
    // As in [`pipeline`]: reads that need no shared snapshot.
    store.read_statements(|tx| {
        let n = resolve(tx, s, filter)?;
        deals_in(tx, s, n, stage, after, limit, now, stale_days)
    })
}

/// [`pipeline`] and [`pipeline_deals`] together, as the pipeline page shows them: the
/// filter's users are looked up once for both.
#[allow(clippy::too_many_arguments)]
pub fn pipeline_with_deals(
    store: &mut Store,
    s: &Session,
    filter: PipelineFilter<'_>,
    stage: Option<Step>,
    after: Option<DealId>,
    limit: u32,
    now: Now,
    stale_days: u32,
) -> StoreResult<(Vec<PipelineStep>, Vec<PipelineDeal>)> {
    store.read_statements(|tx| {
        let n = resolve(tx, s, filter)?;
        Ok((
            steps_in(tx, s, n)?,
            deals_in(tx, s, n, stage, after, limit, now, stale_days)?,
        ))
    })
}

fn steps_in(tx: &mut dyn Sql, s: &Session, n: Narrowing) -> StoreResult<Vec<PipelineStep>> {
    let mut w = Where::on("p", s.org.id);
    narrow(s, n, &mut w);
    let sql = format!(
        "SELECT p.stage, p.currency, CAST(SUM(p.deals) AS BIGINT), CAST(SUM(p.value_minor) AS BIGINT) \
         FROM open_pipeline p JOIN users u ON u.org_id = p.org_id AND u.user_id = p.owner_id{} \
         GROUP BY p.stage, p.currency",
        w.sql
    );
    let rows = tx
        .query(&sql, &w.params)?
        .iter()
        .map(|r| Ok((map::step(r, 0)?, map::currency(r, 1)?, r.int(2)?, r.int(3)?)))
        .collect::<StoreResult<Vec<(Step, Currency, i64, i64)>>>()?;
    let ladder = &s.org.ladder;
    let mut steps: BTreeMap<Step, (i64, BTreeMap<&'static str, Money>)> =
        (0..=ladder.top().0).map(|i| (Step(i), (0, BTreeMap::new()))).collect();
    for (stage, currency, deals, value) in rows.into_iter().filter(|r| r.2 != 0) {
        let (count, values) = steps.entry(stage).or_default();
        *count += deals;
        values.insert(currency.code(), Money::new(value, currency));
    }
    Ok(steps
        .into_iter()
        .map(|(step, (deals, values))| PipelineStep {
            step: StepRef::new(ladder, step),
            deals,
            value: values.into_values().collect(),
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn deals_in(
    tx: &mut dyn Sql,
    s: &Session,
    n: Narrowing,
    stage: Option<Step>,
    after: Option<DealId>,
    limit: u32,
    now: Now,
    stale_days: u32,
) -> StoreResult<Vec<PipelineDeal>> {
    let mut w = Where::new(s.org.id);
    w.and("d.status = ?", "open");
    narrow(s, n, &mut w);
    if let Some(stage) = stage {
        w.and("d.stage = ?", stage.0);
    }
    if let Some(after) = after {
        w.and("d.deal_id > ?", after.0);
    }
    let sql = format!(
        "{}{} ORDER BY d.deal_id LIMIT {}",
        map::DEAL_SELECT,
        w.sql,
        limit.clamp(1, crate::directory::PAGE_MAX)
    );
    let rows = tx
        .query(&sql, &w.params)?
        .iter()
        .map(map::deal)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(rows
        .iter()
        .map(|r| PipelineDeal {
            deal: DealSummary::new(r, &s.org.ladder),
            flags: cholesterol::flags(&r.deal, now, stale_days),
        })
        .collect())
}
