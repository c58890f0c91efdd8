//! The name index and the lookup of a container reference: a full ID, a name (with or
//! without the leading `/`), or a unique ID prefix, in Docker's order (`GetByName` before
//! the prefix search, so a container named like another's ID prefix wins).

use std::collections::BTreeMap;

/// Docker's text for a name already taken.
pub fn name_conflict(name: &str, holder: &str) -> String {
    format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{holder}\". \
         You have to remove (or rename) that container to be able to reuse that name."
    )
}

/// Names to IDs (names without the leading `/`).
#[derive(Debug, Default)]
pub struct NameIndex {
    by_name: BTreeMap<String, String>,
}

/// Why a reference matched nothing or too much.
#[derive(Debug, PartialEq, Eq)]
pub enum LookupError {
    NotFound,
    /// Docker: `Multiple IDs found with provided prefix: x`.
    Ambiguous,
}

impl NameIndex {
    /// Reserves `name` for `id`; `Err` with Docker's conflict text when taken by another.
    pub fn reserve(&mut self, name: &str, id: &str) -> Result<(), String> {
        match self.by_name.get(name) {
            Some(holder) if holder != id => Err(name_conflict(name, holder)),
            _ => {
                self.by_name.insert(name.to_string(), id.to_string());
                Ok(())
            }
        }
    }

    pub fn release(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Resolves `reference` among `ids` (every known container ID).
    pub fn lookup<'a>(
        &self,
        reference: &str,
        ids: impl Iterator<Item = &'a String>,
    ) -> Result<String, LookupError> {
        if reference.is_empty() {
            return Err(LookupError::NotFound);
        }
        let ids: Vec<&String> = ids.collect();
        if ids.iter().any(|id| id.as_str() == reference) {
            return Ok(reference.to_string());
        }
        let bare = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(id) = self.by_name.get(bare) {
            return Ok(id.clone());
        }
        let mut found = ids.into_iter().filter(|id| id.starts_with(reference));
        match (found.next(), found.next()) {
            (Some(id), None) => Ok(id.clone()),
            (Some(_), Some(_)) => Err(LookupError::Ambiguous),
            _ => Err(LookupError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_with_dockers_text() {
        let mut idx = NameIndex::default();
        idx.reserve("web", "abc").unwrap();
        idx.reserve("web", "abc").unwrap();
        assert_eq!(
            idx.reserve("web", "def").unwrap_err(),
            "Conflict. The container name \"/web\" is already in use by container \"abc\". \
             You have to remove (or rename) that container to be able to reuse that name."
        );
        idx.release("web");
        idx.reserve("web", "def").unwrap();
    }

    #[test]
    fn lookup_prefers_id_then_name_then_unique_prefix() {
        let mut idx = NameIndex::default();
        let ids = ["abc123".to_string(), "abd456".to_string()];
        idx.reserve("ab", "abd456").unwrap();
        assert_eq!(idx.lookup("abc123", ids.iter()), Ok("abc123".into()));
        assert_eq!(idx.lookup("/ab", ids.iter()), Ok("abd456".into()));
        assert_eq!(idx.lookup("ab", ids.iter()), Ok("abd456".into()));
        assert_eq!(idx.lookup("abc", ids.iter()), Ok("abc123".into()));
        assert_eq!(idx.lookup("a", ids.iter()), Err(LookupError::Ambiguous));
        assert_eq!(idx.lookup("zz", ids.iter()), Err(LookupError::NotFound));
        assert_eq!(idx.lookup("", ids.iter()), Err(LookupError::NotFound));
    }
}
