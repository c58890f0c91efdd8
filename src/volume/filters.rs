//! Docker's filters for `GET /volumes` (`name`, `label`, `label!`, `dangling`, `driver`)
//! and `POST /volumes/prune` (`label`, `label!`, `all`), checked and applied.

use std::collections::BTreeMap;

use super::record::VolumeRecord;
use super::VolumeError;

pub type FilterMap = BTreeMap<String, Vec<String>>;

const LIST_KEYS: [&str; 5] = ["name", "label", "label!", "dangling", "driver"];
const PRUNE_KEYS: [&str; 3] = ["label", "label!", "all"];

/// Refuses keys Docker does not take here, with its text.
fn check_keys(filters: &FilterMap, allowed: &[&str]) -> Result<(), VolumeError> {
    match filters.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(VolumeError::Invalid(format!("invalid filter '{k}'"))),
        None => Ok(()),
    }
}

/// A boolean filter's value (`true`/`1`, `false`/`0`); the last one given wins.
fn bool_filter(filters: &FilterMap, key: &str) -> Result<Option<bool>, VolumeError> {
    let Some(values) = filters.get(key) else {
        return Ok(None);
    };
    let mut out = None;
    for v in values {
        out = Some(match v.to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(VolumeError::Invalid(format!("invalid filter '{key}={v}'"))),
        });
    }
    Ok(out)
}

/// `key` or `key=value` against a label map.
pub fn label_matches(labels: &BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(want),
    }
}

fn labels_pass(filters: &FilterMap, labels: &BTreeMap<String, String>) -> bool {
    filters
        .get("label")
        .is_none_or(|w| w.iter().all(|l| label_matches(labels, l)))
        && filters
            .get("label!")
            .is_none_or(|w| !w.iter().any(|l| label_matches(labels, l)))
}

/// The list filters, checked once, then applied to each volume.
pub struct ListFilter<'a> {
    filters: &'a FilterMap,
    dangling: Option<bool>,
}

impl<'a> ListFilter<'a> {
    pub fn new(filters: &'a FilterMap) -> Result<ListFilter<'a>, VolumeError> {
        check_keys(filters, &LIST_KEYS)?;
        let dangling = bool_filter(filters, "dangling")?;
        Ok(ListFilter { filters, dangling })
    }

    /// `in_use`: some container references the volume.
    pub fn matches(&self, record: &VolumeRecord, in_use: bool) -> bool {
        let f = self.filters;
        f.get("name")
            .is_none_or(|w| w.iter().any(|n| record.name.contains(n.as_str())))
            && f.get("driver").is_none_or(|w| w.contains(&record.driver))
            && labels_pass(f, &record.labels)
            && self.dangling.is_none_or(|d| d != in_use)
    }
}

/// The prune filters: which unused volumes go.
pub struct PruneFilter<'a> {
    filters: &'a FilterMap,
    all: bool,
}

impl<'a> PruneFilter<'a> {
    pub fn new(filters: &'a FilterMap) -> Result<PruneFilter<'a>, VolumeError> {
        check_keys(filters, &PRUNE_KEYS)?;
        let all = bool_filter(filters, "all")?.unwrap_or(false);
        Ok(PruneFilter { filters, all })
    }

    /// API 1.42 and later prune only anonymous volumes unless `all=true`.
    pub fn matches(&self, record: &VolumeRecord) -> bool {
        (self.all || record.labels.contains_key(super::record::ANONYMOUS_LABEL))
            && labels_pass(self.filters, &record.labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> FilterMap {
        let mut m = FilterMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        m
    }

    fn vol(name: &str, labels: &[(&str, &str)]) -> VolumeRecord {
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..VolumeRecord::default()
        }
    }

    #[test]
    fn list_filters_match_like_dockers() {
        let f = filters(&[("name", "dat"), ("label", "env=prod")]);
        let lf = ListFilter::new(&f).unwrap();
        assert!(lf.matches(&vol("mydata", &[("env", "prod")]), false));
        assert!(!lf.matches(&vol("mydata", &[("env", "dev")]), false));
        assert!(!lf.matches(&vol("other", &[("env", "prod")]), false));
        let f = filters(&[("dangling", "true")]);
        let lf = ListFilter::new(&f).unwrap();
        assert!(lf.matches(&vol("a1", &[]), false));
        assert!(!lf.matches(&vol("a1", &[]), true));
        let bad = filters(&[("dangling", "maybe")]);
        assert_eq!(
            ListFilter::new(&bad).err().unwrap().to_string(),
            "invalid filter 'dangling=maybe'"
        );
        let bad = filters(&[("until", "1h")]);
        assert_eq!(
            ListFilter::new(&bad).err().unwrap().to_string(),
            "invalid filter 'until'"
        );
    }

    #[test]
    fn prune_takes_anonymous_volumes_unless_all() {
        let anon = vol("a1", &[(super::super::record::ANONYMOUS_LABEL, "")]);
        let named = vol("named", &[]);
        let none = FilterMap::new();
        let pf = PruneFilter::new(&none).unwrap();
        assert!(pf.matches(&anon));
        assert!(!pf.matches(&named));
        let all = filters(&[("all", "true")]);
        let pf = PruneFilter::new(&all).unwrap();
        assert!(pf.matches(&named));
        let keep = filters(&[("all", "1"), ("label!", "keep")]);
        let pf = PruneFilter::new(&keep).unwrap();
        assert!(!pf.matches(&vol("k1", &[("keep", "")])));
    }
}
