//! Integration tests: the real server in-process on a random port, a fresh database per
//! test, a fake clock, no sleeps. One test binary (STYLE.md habit 9).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod helpers;

mod applications;
mod audit;
mod cli;
mod device;
mod directory;
mod errors;
mod openapi_document;
mod passes;
mod policy;
mod processes;
mod roles;
mod secrets;
mod security_info;
mod sign_in;
mod tokens;
