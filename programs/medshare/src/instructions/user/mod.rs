//! Instructions patients and providers send.

pub mod cancel_share;
pub mod close_record;
pub mod close_share_result;
pub mod consent;
pub mod identity;
pub mod request_share;
pub mod share_patient_data;
pub mod store_patient_data;
pub mod update_patient_data;
pub mod write_record_group;

pub use cancel_share::*;
pub use close_record::*;
pub use close_share_result::*;
pub use consent::*;
pub use identity::*;
pub use request_share::*;
pub use share_patient_data::*;
pub use store_patient_data::*;
pub use update_patient_data::*;
pub use write_record_group::*;
