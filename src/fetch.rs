//! http(s) schedule sources. (being written)
