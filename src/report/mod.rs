//! Reporters: everything a person or a CI system reads. They only render `outcome::RunReport`.

pub mod console;
pub mod dry;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
