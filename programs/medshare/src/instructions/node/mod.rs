//! Instructions MPC nodes send: registration, DKG, contributions, callback.

pub mod close_node_accounts;
pub mod confirm_dkg;
pub mod post_dkg_complaint;
pub mod post_dkg_round1;
pub mod post_dkg_round2;
pub mod register_node;
pub mod share_patient_data_callback;
pub mod submit_contribution;

pub use close_node_accounts::*;
pub use confirm_dkg::*;
pub use post_dkg_complaint::*;
pub use post_dkg_round1::*;
pub use post_dkg_round2::*;
pub use register_node::*;
pub use share_patient_data_callback::*;
pub use submit_contribution::*;
