//! Plugin parameters: the project file's `params` table arrives as JSON text.

use crate::Error;
use serde::de::DeserializeOwned;

/// Parses `configure`'s JSON into `T`; unknown or malformed fields become
/// `Error::InvalidInput` naming the problem (use `#[serde(deny_unknown_fields)]`).
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    let text = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(text).map_err(|e| Error::InvalidInput(format!("bad params: {e}")))
}

/// For plugins without parameters: accepts only an empty object, so a typo'd
/// parameter in the project file is reported instead of ignored.
pub fn none(json: &str) -> Result<(), Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoParams {}
    parse::<NoParams>(json).map(|_| ())
}

/// Checks a validator's `columns` parameter: not empty, each
/// `"table.column"`. Returns the error `configure` should return.
pub fn table_columns(columns: &[String]) -> Result<(), Error> {
    if columns.is_empty() {
        return Err(Error::InvalidInput("`columns` must not be empty".into()));
    }
    match columns.iter().find(|c| !c.contains('.')) {
        Some(c) => Err(Error::InvalidInput(format!(
            "{c:?}: expected \"table.column\""
        ))),
        None => Ok(()),
    }
}
