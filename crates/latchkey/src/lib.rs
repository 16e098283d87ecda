//! The `latchkey` binary's library half: configuration, start-up (opening the store,
//! the master key and the signing keys), and the operator commands. Integration tests
//! start the real server through [`startup`].

pub mod cli;
pub mod master_key;
pub mod startup;
