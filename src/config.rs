//! Typed settings: file < environment. (being written)
