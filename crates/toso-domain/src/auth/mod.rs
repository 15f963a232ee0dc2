//! Proving who the caller is: passwords, access and refresh tokens, sessions and login
//! throttling. What a caller may reach (roles, scopes) is in `crate::access`.

pub mod activation;
pub mod jwt;
pub mod live_sessions;
pub mod password;
pub mod service;
pub mod throttle;
