//! Container names and ids: Docker's name rule, random `adjective_surname` names (berth's
//! own word lists: weather and harbour adjectives, navigators and explorers), and 64-hex ids.

use super::SpecError;

/// Docker's `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`: returns the name without its leading `/`.
pub fn validate_name(name: &str) -> Result<&str, SpecError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest: Vec<char> = chars.collect();
    let rest_ok = !rest.is_empty()
        && rest
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        Ok(bare)
    } else {
        Err(SpecError::invalid(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

const ADJECTIVES: [&str; 40] = [
    "amber",
    "ashore",
    "balmy",
    "becalmed",
    "blustery",
    "brackish",
    "breezy",
    "briny",
    "buoyant",
    "coastal",
    "coral",
    "drifting",
    "dusky",
    "ebbing",
    "foggy",
    "gusty",
    "hazy",
    "heaving",
    "leeward",
    "lunar",
    "misty",
    "moored",
    "nautical",
    "offshore",
    "pelagic",
    "rolling",
    "salty",
    "seaworthy",
    "squally",
    "starlit",
    "steady",
    "stormy",
    "sunlit",
    "tidal",
    "trim",
    "ventured",
    "weathered",
    "windward",
    "wind-swept",
    "zephyrous",
];

const SURNAMES: [&str; 40] = [
    "amundsen",
    "baffin",
    "battuta",
    "bering",
    "bly",
    "bougainville",
    "cabot",
    "cartier",
    "chichester",
    "columbus",
    "cook",
    "cousteau",
    "dampier",
    "dias",
    "drake",
    "earhart",
    "flinders",
    "frobisher",
    "gama",
    "heyerdahl",
    "hudson",
    "humboldt",
    "kupe",
    "laperouse",
    "magellan",
    "moitessier",
    "nansen",
    "peary",
    "polo",
    "raleigh",
    "shackleton",
    "slocum",
    "tasman",
    "vancouver",
    "vespucci",
    "ward",
    "wilkes",
    "zheng",
    "franklin",
    "hillary",
];

/// A random `adjective_surname`; on `retry` > 0 a digit is appended, as Docker does after
/// a collision. The caller checks uniqueness.
pub fn random_name(retry: u32) -> Result<String, SpecError> {
    let mut bytes = [0u8; 3];
    fill_random(&mut bytes)?;
    let adjective = ADJECTIVES[usize::from(bytes[0]) % ADJECTIVES.len()];
    let surname = SURNAMES[usize::from(bytes[1]) % SURNAMES.len()];
    let mut name = format!("{adjective}_{surname}");
    if retry > 0 {
        name.push(char::from(b'0' + bytes[2] % 10));
    }
    Ok(name)
}

/// 64 random hex characters. Like Docker, an id whose 12-character short form is all
/// digits is redrawn, so a short id never reads as a number.
pub fn container_id() -> Result<String, SpecError> {
    loop {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

fn fill_random(buf: &mut [u8]) -> Result<(), SpecError> {
    getrandom::getrandom(buf).map_err(|e| SpecError::Random(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_names_with_or_without_a_slash() {
        assert_eq!(validate_name("web-1"), Ok("web-1"));
        assert_eq!(validate_name("/my_app.v2"), Ok("my_app.v2"));
        assert_eq!(validate_name("0a"), Ok("0a"));
    }

    #[test]
    fn refuses_bad_names_with_dockers_text() {
        for bad in [
            "a", "", "/", "-web", "_web", "we b", "web/1", "wéb", "//web",
        ] {
            assert_eq!(
                validate_name(bad),
                Err(SpecError::invalid(format!(
                    "Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                ))),
                "{bad}"
            );
        }
    }

    #[test]
    fn word_lists_make_valid_names_only() {
        for a in ADJECTIVES {
            for s in SURNAMES {
                let name = format!("{a}_{s}");
                assert!(validate_name(&name).is_ok(), "{name} breaks the name rule");
            }
        }
    }

    #[test]
    fn random_names_are_adjective_surname_and_get_a_digit_on_retry() {
        let name = random_name(0).expect("random");
        let (a, s) = name.split_once('_').expect("has an underscore");
        assert!(ADJECTIVES.contains(&a) && SURNAMES.contains(&s), "{name}");
        let retried = random_name(1).expect("random");
        assert!(retried.ends_with(|c: char| c.is_ascii_digit()), "{retried}");
    }

    #[test]
    fn ids_are_64_lowercase_hex_with_a_non_numeric_short_form_and_differ() {
        let a = container_id().expect("random");
        let b = container_id().expect("random");
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert!(!a[..12].bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(a, b);
    }
}
