//! Answers one query from the name table, or says it must be forwarded. Pure: bytes in,
//! bytes (or "forward") out, no sockets.
//!
//! Like Docker's resolver: only the first question is looked at; A and AAAA give every
//! address of the name (rotated per answer), PTR gives the container name, a known name
//! with no address of the asked type gives NOERROR and no answers, anything unknown is
//! forwarded. Answers carry TTL 600 as Docker's do.

use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::table::NameTable;

/// Docker's TTL for its own names.
const TTL: u32 = 600;

/// The classic UDP payload limit, used when the query has no EDNS.
const UDP_MIN_PAYLOAD: usize = 512;

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reply {
    /// Send these bytes back.
    Local(Vec<u8>),
    /// Ask the upstream resolvers with the query as received.
    Forward,
    /// Not even a header: say nothing.
    Drop,
}

/// Answers `query` (wire bytes) for `asker`. `rotation` picks the first address of a
/// multi-address answer; `udp` limits the answer to what the client can receive in a
/// datagram (setting TC when answers had to go).
pub(super) fn answer(
    table: &NameTable,
    asker: &str,
    query: &[u8],
    rotation: usize,
    udp: bool,
) -> Reply {
    let request = match Message::from_vec(query) {
        Ok(request) => request,
        Err(_) => return error_from_header(query, ResponseCode::FormErr),
    };
    if request.metadata.message_type != MessageType::Query {
        return Reply::Drop;
    }
    if request.metadata.op_code != OpCode::Query {
        return encode(&error_reply(&request, ResponseCode::NotImp), None);
    }
    let Some(question) = request.queries.first() else {
        return encode(&error_reply(&request, ResponseCode::FormErr), None);
    };
    let answers = match question.query_type {
        RecordType::PTR => match reverse_name(&question.name) {
            Some(addr) => match table.reverse(asker, addr) {
                Some(name) => match Name::from_utf8(format!("{name}.")) {
                    Ok(target) => vec![Record::from_rdata(
                        question.name.clone(),
                        TTL,
                        RData::PTR(PTR(target)),
                    )],
                    Err(_) => return Reply::Forward,
                },
                None => return Reply::Forward,
            },
            None => return Reply::Forward,
        },
        query_type => {
            let Some(addrs) = table.lookup(asker, &question.name.to_ascii()) else {
                return Reply::Forward;
            };
            address_records(&question.name, query_type, &addrs, rotation)
        }
    };
    let mut reply = Message::response(request.metadata.id, OpCode::Query);
    reply.metadata = hickory_proto::op::Metadata::response_from_request(&request.metadata);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_available = true;
    reply.add_query(question.clone());
    reply.add_answers(answers);
    let limit = udp.then(|| {
        request
            .edns
            .as_ref()
            .map_or(UDP_MIN_PAYLOAD, |e| usize::from(e.max_payload()))
            .max(UDP_MIN_PAYLOAD)
    });
    encode(&reply, limit)
}

/// The records of type `query_type` among `addrs`, rotated by `rotation`.
fn address_records(
    name: &Name,
    query_type: RecordType,
    addrs: &[IpAddr],
    rotation: usize,
) -> Vec<Record> {
    let mut records: Vec<Record> = addrs
        .iter()
        .filter_map(|addr| match (query_type, addr) {
            (RecordType::A, IpAddr::V4(v4)) => Some(RData::A(A(*v4))),
            (RecordType::AAAA, IpAddr::V6(v6)) => Some(RData::AAAA(AAAA(*v6))),
            _ => None,
        })
        .map(|data| Record::from_rdata(name.clone(), TTL, data))
        .collect();
    if !records.is_empty() {
        let len = records.len();
        records.rotate_left(rotation % len);
    }
    records
}

/// The address a full `in-addr.arpa` / `ip6.arpa` name stands for.
fn reverse_name(name: &Name) -> Option<IpAddr> {
    let mut name = name.clone();
    // A client may send the name without the final dot; the parser wants it.
    name.set_fqdn(true);
    let net = name.parse_arpa_name().ok()?;
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}

fn error_reply(request: &Message, code: ResponseCode) -> Message {
    let mut reply = Message::error_msg(request.metadata.id, request.metadata.op_code, code);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_queries(request.queries.iter().take(1).cloned());
    reply
}

/// A bare error with the query's ID, for a message that does not parse.
fn error_from_header(query: &[u8], code: ResponseCode) -> Reply {
    if query.len() < 12 {
        return Reply::Drop;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    encode(&Message::error_msg(id, OpCode::Query, code), None)
}

/// Encodes `reply`; with a `limit`, drops trailing answers until it fits and sets TC.
fn encode(reply: &Message, limit: Option<usize>) -> Reply {
    let Ok(bytes) = reply.to_vec() else {
        return Reply::Drop;
    };
    let Some(limit) = limit.filter(|l| bytes.len() > *l) else {
        return Reply::Local(bytes);
    };
    let mut cut = reply.clone();
    cut.metadata.truncation = true;
    while cut.answers.pop().is_some() {
        if let Ok(bytes) = cut.to_vec() {
            if bytes.len() <= limit {
                return Reply::Local(bytes);
            }
        }
    }
    cut.to_vec().map_or(Reply::Drop, Reply::Local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::DnsEndpoint;
    use hickory_proto::op::Query;

    fn table() -> NameTable {
        let mut t = NameTable::default();
        for (id, names, addrs) in [
            ("c1", vec!["web", "www"], vec!["10.0.0.2", "fd00::2"]),
            ("c2", vec!["web2", "www"], vec!["10.0.0.3"]),
            ("c3", vec!["v6only"], vec!["fd00::4"]),
            ("me", vec!["me"], vec!["10.0.0.9"]),
        ] {
            t.add(DnsEndpoint {
                network_id: "n".into(),
                container_id: id.into(),
                names: names.into_iter().map(String::from).collect(),
                addrs: addrs.into_iter().map(|a| a.parse().unwrap()).collect(),
            });
        }
        t
    }

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_utf8(name).unwrap(), kind));
        m.to_vec().unwrap()
    }

    fn local(reply: Reply) -> Message {
        match reply {
            Reply::Local(bytes) => Message::from_vec(&bytes).unwrap(),
            other => panic!("expected a local answer, got {other:?}"),
        }
    }

    fn data(m: &Message) -> Vec<String> {
        m.answers.iter().map(|r| r.data.to_string()).collect()
    }

    #[test]
    fn a_and_aaaa_are_answered_with_ttl_600() {
        let t = table();
        let m = local(answer(&t, "me", &query("WEB.", RecordType::A), 0, true));
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert_eq!(data(&m), ["10.0.0.2"]);
        assert_eq!(m.answers[0].ttl, 600);
        let m = local(answer(&t, "me", &query("web", RecordType::AAAA), 0, true));
        assert_eq!(data(&m), ["fd00::2"]);
    }

    #[test]
    fn replicas_rotate() {
        let t = table();
        let first = data(&local(answer(
            &t,
            "me",
            &query("www.", RecordType::A),
            0,
            true,
        )));
        let second = data(&local(answer(
            &t,
            "me",
            &query("www.", RecordType::A),
            1,
            true,
        )));
        assert_eq!(first.len(), 2);
        assert_eq!(first[0], second[1]);
        assert_eq!(first[1], second[0]);
    }

    #[test]
    fn known_name_without_that_family_is_empty_noerror() {
        let t = table();
        let m = local(answer(&t, "me", &query("v6only.", RecordType::A), 0, true));
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.answers.is_empty());
    }

    #[test]
    fn ptr_gives_the_container_name() {
        let t = table();
        let q = query("2.0.0.10.in-addr.arpa.", RecordType::PTR);
        let m = local(answer(&t, "me", &q, 0, true));
        assert_eq!(data(&m), ["web."]);
        let q = query("9.9.9.10.in-addr.arpa.", RecordType::PTR);
        assert_eq!(answer(&t, "me", &q, 0, true), Reply::Forward);
    }

    #[test]
    fn unknown_names_and_strangers_are_forwarded() {
        let t = table();
        let q = query("example.org.", RecordType::A);
        assert_eq!(answer(&t, "me", &q, 0, true), Reply::Forward);
        let q = query("nodots.", RecordType::A);
        assert_eq!(answer(&t, "me", &q, 0, true), Reply::Forward);
        let q = query("web.", RecordType::A);
        assert_eq!(answer(&t, "stranger", &q, 0, true), Reply::Forward);
    }

    #[test]
    fn garbage_gets_formerr_or_nothing() {
        let t = table();
        assert_eq!(answer(&t, "me", b"\x01", 0, true), Reply::Drop);
        let mut bad = query("web.", RecordType::A);
        bad.truncate(14);
        let m = local(answer(&t, "me", &bad, 0, true));
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    }

    #[test]
    fn many_replicas_are_truncated_over_udp_only() {
        let mut t = NameTable::default();
        for i in 0..60u8 {
            t.add(DnsEndpoint {
                network_id: "n".into(),
                container_id: format!("c{i}"),
                names: vec!["many".into()],
                addrs: vec![IpAddr::from([10, 0, 1, i])],
            });
        }
        t.add(DnsEndpoint {
            network_id: "n".into(),
            container_id: "me".into(),
            names: vec!["me".into()],
            addrs: vec![],
        });
        let q = query("many.", RecordType::A);
        let Reply::Local(udp) = answer(&t, "me", &q, 0, true) else {
            panic!("no udp answer")
        };
        assert!(udp.len() <= 512, "{}", udp.len());
        let m = Message::from_vec(&udp).unwrap();
        assert!(m.metadata.truncation);
        let m = local(answer(&t, "me", &q, 0, false));
        assert!(!m.metadata.truncation);
        assert_eq!(m.answers.len(), 60);
    }
}
