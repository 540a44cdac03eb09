//! (being written)

use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::ImportedSchedule;

/// Parses the input.
pub fn parse(_input: &str, _options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    Err(ImportError::msg("this format is not supported yet"))
}
