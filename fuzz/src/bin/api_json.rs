//! The API's JSON request bodies, read the way every handler reads them: never a panic,
//! whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use momentum_web::api::extract::from_json;
use momentum_web::api::types;

fuzz_target!(|data: &[u8]| {
    macro_rules! each {
        ($($t:ty),+) => {$(
            let _ = from_json::<$t>(data);
        )+};
    }
    each!(
        types::CreateDeal,
        types::LogInteraction,
        types::RecordDecision,
        types::SetNeed,
        types::Close,
        types::Reschedule,
        types::NewContact,
        types::ContactPatch,
        types::SetLadder,
        types::NewUser
    );
});
