//! Netlink attribute encoding (TLVs, 4-byte aligned, nests flagged NLA_F_NESTED) and the
//! nftables expressions berth's rules are made of.

const NLA_F_NESTED: u16 = 0x8000;

/// A growing netlink message body.
#[derive(Clone, Default)]
pub(super) struct Attrs(pub(super) Vec<u8>);

impl Attrs {
    pub(super) fn put(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = (4 + data.len()) as u16;
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.pad();
        self
    }

    pub(super) fn put_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.put(ty, &data)
    }

    pub(super) fn put_be32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.put(ty, &v.to_be_bytes())
    }

    pub(super) fn put_be64(&mut self, ty: u16, v: u64) -> &mut Self {
        self.put(ty, &v.to_be_bytes())
    }

    pub(super) fn nest(&mut self, ty: u16, f: impl FnOnce(&mut Attrs)) -> &mut Self {
        let start = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        f(self);
        let len = (self.0.len() - start) as u16;
        self.0[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.0[start + 2..start + 4].copy_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn pad(&mut self) {
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }
}

/// Finds attribute `ty` at the top level of `buf`.
pub(super) fn find(buf: &[u8], ty: u16) -> Option<&[u8]> {
    let mut rest = buf;
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & !NLA_F_NESTED;
        if len < 4 || len > rest.len() {
            return None;
        }
        if kind == ty {
            return Some(&rest[4..len]);
        }
        rest = &rest[((len + 3) & !3).min(rest.len())..];
    }
    None
}

// enum nft_list_attributes, nft_expr_attributes, nft_data_attributes, nft_verdict_attributes
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;

/// The 16-byte register 1 (and 2), as nft uses them.
pub(super) const REG_1: u32 = 1;
pub(super) const REG_2: u32 = 2;
const REG_VERDICT: u32 = 0;

pub(super) const META_NFPROTO: u32 = 15;
pub(super) const META_L4PROTO: u32 = 16;
pub(super) const META_IIFNAME: u32 = 6;
pub(super) const META_OIFNAME: u32 = 7;

pub(super) const CMP_EQ: u32 = 0;
pub(super) const CMP_NEQ: u32 = 1;

pub(super) const BASE_NETWORK: u32 = 1;
pub(super) const BASE_TRANSPORT: u32 = 2;

pub(super) const NF_DROP: u32 = 0;

/// A rule's expression list under construction.
#[derive(Clone, Default)]
pub(super) struct Exprs(pub(super) Attrs);

impl Exprs {
    fn expr(&mut self, name: &str, f: impl FnOnce(&mut Attrs)) -> &mut Self {
        self.0.nest(NFTA_LIST_ELEM, |e| {
            e.put_str(NFTA_EXPR_NAME, name);
            e.nest(NFTA_EXPR_DATA, f);
        });
        self
    }

    /// `meta <key>` into `dreg`.
    pub(super) fn meta(&mut self, key: u32, dreg: u32) -> &mut Self {
        // NFTA_META_DREG, NFTA_META_KEY
        self.expr("meta", |a| {
            a.put_be32(1, dreg).put_be32(2, key);
        })
    }

    /// Compare register 1 with `data`.
    pub(super) fn cmp(&mut self, op: u32, data: &[u8]) -> &mut Self {
        // NFTA_CMP_SREG, NFTA_CMP_OP, NFTA_CMP_DATA
        self.expr("cmp", |a| {
            a.put_be32(1, REG_1).put_be32(2, op).nest(3, |d| {
                d.put(NFTA_DATA_VALUE, data);
            });
        })
    }

    /// `len` bytes at `offset` of header `base` into register 1.
    pub(super) fn payload(&mut self, base: u32, offset: u32, len: u32) -> &mut Self {
        // NFTA_PAYLOAD_DREG, _BASE, _OFFSET, _LEN
        self.expr("payload", |a| {
            a.put_be32(1, REG_1)
                .put_be32(2, base)
                .put_be32(3, offset)
                .put_be32(4, len);
        })
    }

    /// Register 1 &= mask.
    pub(super) fn mask(&mut self, mask: &[u8]) -> &mut Self {
        let zero = vec![0u8; mask.len()];
        // NFTA_BITWISE_SREG, _DREG, _LEN, _MASK, _XOR
        self.expr("bitwise", |a| {
            a.put_be32(1, REG_1)
                .put_be32(2, REG_1)
                .put_be32(3, mask.len() as u32)
                .nest(4, |d| {
                    d.put(NFTA_DATA_VALUE, mask);
                })
                .nest(5, |d| {
                    d.put(NFTA_DATA_VALUE, &zero);
                });
        })
    }

    /// `fib daddr type` into register 1 (an RTN_* number, host order).
    pub(super) fn fib_daddr_type(&mut self) -> &mut Self {
        // NFTA_FIB_DREG, NFTA_FIB_RESULT (ADDRTYPE = 3), NFTA_FIB_FLAGS (F_DADDR = 2)
        self.expr("fib", |a| {
            a.put_be32(1, REG_1).put_be32(2, 3).put_be32(3, 2);
        })
    }

    /// Load `data` into `dreg`.
    pub(super) fn immediate(&mut self, dreg: u32, data: &[u8]) -> &mut Self {
        // NFTA_IMMEDIATE_DREG, NFTA_IMMEDIATE_DATA
        self.expr("immediate", |a| {
            a.put_be32(1, dreg).nest(2, |d| {
                d.put(NFTA_DATA_VALUE, data);
            });
        })
    }

    pub(super) fn verdict(&mut self, code: u32) -> &mut Self {
        self.expr("immediate", |a| {
            a.put_be32(1, REG_VERDICT).nest(2, |d| {
                d.nest(NFTA_DATA_VERDICT, |v| {
                    v.put_be32(NFTA_VERDICT_CODE, code);
                });
            });
        })
    }

    pub(super) fn masquerade(&mut self) -> &mut Self {
        self.expr("masq", |_| {})
    }

    /// DNAT to the address in register 1 and the port in register 2.
    pub(super) fn dnat(&mut self, nfproto: u8) -> &mut Self {
        // NFTA_NAT_TYPE (DNAT = 1), _FAMILY, _REG_ADDR_MIN, _REG_PROTO_MIN
        self.expr("nat", |a| {
            a.put_be32(1, 1)
                .put_be32(2, u32::from(nfproto))
                .put_be32(3, REG_1)
                .put_be32(5, REG_2);
        })
    }
}
