//! HTML fragments (frab/pentabarf abstracts) turned into readable plain text. (being written)
