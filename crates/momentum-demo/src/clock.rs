//! The simulated clock: times are whole seconds since the Unix epoch (UTC, the demo org's
//! time zone), turned into `Timestamp`s and dates only when a command needs them. Dates
//! come from a table built once, so the hot loop never does calendar arithmetic.

use jiff::civil::Date;
use jiff::Timestamp;
use momentum_core::model::Now;

pub(crate) const MINUTE: i64 = 60;
pub(crate) const HOUR: i64 = 3_600;
pub(crate) const DAY: i64 = 86_400;

/// How many days before and after `today` the date table covers. Deals start at most a year
/// back and look at most about seven months ahead (need dates), so this is ample.
const TABLE_REACH_DAYS: i64 = 460;

/// The demo's "now": `today` at this hour (UTC). The simulation records nothing at or
/// after it, so steps due later today show up as due today.
const HORIZON_HOUR: i64 = 7;

#[derive(Debug)]
pub(crate) struct Calendar {
    first_day: i64,
    dates: Vec<Date>,
    /// Day number (days since 1970-01-01) of `today`.
    pub today_day: i64,
    pub today: Date,
    /// The instant the simulated history stops: `today` at 07:00 UTC.
    pub horizon: i64,
}

impl Calendar {
    pub(crate) fn new(today: Date) -> Calendar {
        let epoch = Date::constant(1970, 1, 1);
        let today_day = i64::from(
            today
                .since(epoch)
                .expect("days between two civil dates always fit a span")
                .get_days(),
        );
        let first_day = today_day - TABLE_REACH_DAYS;
        let mut date = today
            .checked_sub(jiff::Span::new().days(TABLE_REACH_DAYS))
            .expect("the demo's today lies well inside jiff's range");
        let mut dates = Vec::with_capacity(2 * TABLE_REACH_DAYS as usize + 1);
        for _ in 0..=2 * TABLE_REACH_DAYS {
            dates.push(date);
            date = date.tomorrow().expect("the demo's today lies well inside jiff's range");
        }
        Calendar {
            first_day,
            dates,
            today_day,
            today,
            horizon: today_day * DAY + HORIZON_HOUR * HOUR,
        }
    }

    /// The date of day number `day`.
    pub(crate) fn date_of_day(&self, day: i64) -> Date {
        let i = day - self.first_day;
        assert!(
            (0..self.dates.len() as i64).contains(&i),
            "demo day {day} lies outside the simulated window"
        );
        self.dates[i as usize]
    }

    /// The day number of `date`.
    pub(crate) fn day_of_date(&self, date: Date) -> i64 {
        let back = self
            .today
            .since(date)
            .expect("days between two civil dates always fit a span");
        self.today_day - i64::from(back.get_days())
    }

    /// The date (UTC) of the instant `secs`.
    pub(crate) fn date(&self, secs: i64) -> Date {
        self.date_of_day(day_of(secs))
    }

    /// The clock a command sees at `secs`.
    pub(crate) fn now(&self, secs: i64) -> Now {
        Now {
            at: ts(secs),
            today: self.date(secs),
        }
    }
}

pub(crate) fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).expect("demo times lie well inside jiff's range")
}

pub(crate) fn day_of(secs: i64) -> i64 {
    secs.div_euclid(DAY)
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub(crate) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The first working day at or after `day`.
pub(crate) fn weekday_at_or_after(day: i64) -> i64 {
    match weekday(day) {
        5 => day + 2,
        6 => day + 1,
        _ => day,
    }
}
