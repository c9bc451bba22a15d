//! Reporters: everything a person or a CI system reads. They only render `model::RunReport`.

pub mod console;
pub mod dry;
pub mod json;
pub mod junit;
pub mod model;
pub mod styles;
