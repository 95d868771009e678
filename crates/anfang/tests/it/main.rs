//! The binary crate's one integration-test binary: the layering and convention checks (tidy)
//! and the command-line interface driven as a user would.

mod cascade;
mod cli;
mod common;
mod mqtt;
mod notify;
mod offline;
mod scenarios;
mod tidy;
mod video;
mod video_live;
mod viid;
