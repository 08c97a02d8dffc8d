//! Policy decisions applied to every grant: which scope, which audience, how long.
pub mod audience;
pub mod lifetime;
pub mod scope;
