//! Compiles resolved rules into a classic BPF program for `SECCOMP_SET_MODE_FILTER`, without
//! libseccomp.
//!
//! Layout: check the architecture (anything else gets the bad-arch action, as libseccomp does
//! for an architecture not in the filter; on x86_64 that includes x32 numbers), load the
//! syscall number, return ENOSYS above the highest number the profile names (runc's stub),
//! then syscalls with an unconditional rule in chunks of `jeq` that share one `ret` per
//! action, then one block per syscall with argument conditions, then the default action.
//! Every block with conditions ends in a `ret`, so the accumulator holds the syscall number
//! whenever a `jeq` on it runs.

use super::profile::{ArgCondition, CompareOp};
use super::resolve::{ret, Resolved, Rule};
use super::SeccompError;

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when the test holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

/// Opcodes used here (linux/bpf_common.h).
pub mod op {
    /// `BPF_LD | BPF_W | BPF_ABS`: A = 32-bit word at offset k of seccomp_data.
    pub const LD_ABS: u16 = 0x20;
    /// `BPF_ALU | BPF_AND | BPF_K`: A &= k.
    pub const AND: u16 = 0x54;
    /// `BPF_JMP | BPF_JEQ | BPF_K`.
    pub const JEQ: u16 = 0x15;
    /// `BPF_JMP | BPF_JGT | BPF_K`.
    pub const JGT: u16 = 0x25;
    /// `BPF_JMP | BPF_JGE | BPF_K`.
    pub const JGE: u16 = 0x35;
    /// `BPF_RET | BPF_K`.
    pub const RET: u16 = 0x06;
}

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;

/// x32 syscalls are x86_64's with this bit set (`__X32_SYSCALL_BIT`).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The kernel's limit on a filter's length (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;

/// How many syscalls share one `ret` (a `jeq` reaches at most 255 instructions ahead).
const CHUNK: usize = 200;

/// What an architecture other than the filter's gets: libseccomp's default
/// (`SCMP_FLTATR_ACT_BADARCH` = `SCMP_ACT_KILL`).
pub const BAD_ARCH_ACTION: u32 = ret::KILL_THREAD;

/// A compiled filter, ready to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpfProgram {
    insns: Vec<Insn>,
}

impl BpfProgram {
    /// The instructions.
    pub fn instructions(&self) -> &[Insn] {
        &self.insns
    }
}

/// Where a jump goes: the next instruction or a label.
#[derive(Clone, Copy)]
enum Tgt {
    Next,
    Label(usize),
}

/// A tiny assembler: instructions whose jumps name labels, resolved at the end.
#[derive(Default)]
struct Asm {
    code: Vec<(u16, Tgt, Tgt, u32)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.code.push((code, Tgt::Next, Tgt::Next, k));
    }

    fn jump(&mut self, code: u16, k: u32, jt: Tgt, jf: Tgt) {
        self.code.push((code, jt, jf, k));
    }

    fn finish(self) -> Result<Vec<Insn>, SeccompError> {
        if self.code.len() > MAX_INSNS {
            return Err(SeccompError::TooLarge(self.code.len()));
        }
        let offset = |at: usize, tgt: Tgt| -> Result<u8, SeccompError> {
            match tgt {
                Tgt::Next => Ok(0),
                Tgt::Label(l) => {
                    let to = self.labels[l].ok_or(SeccompError::TooLarge(at))?;
                    to.checked_sub(at + 1)
                        .and_then(|d| u8::try_from(d).ok())
                        .ok_or(SeccompError::TooLarge(at))
                }
            }
        };
        self.code
            .iter()
            .enumerate()
            .map(|(at, &(code, jt, jf, k))| {
                Ok(Insn {
                    code,
                    jt: offset(at, jt)?,
                    jf: offset(at, jf)?,
                    k,
                })
            })
            .collect()
    }
}

/// Compiles `resolved` into a program.
pub fn compile(resolved: &Resolved) -> Result<BpfProgram, SeccompError> {
    let mut asm = Asm::default();
    let arch_ok = asm.label();
    asm.stmt(op::LD_ABS, OFF_ARCH);
    asm.jump(
        op::JEQ,
        resolved.arch.audit_arch(),
        Tgt::Label(arch_ok),
        Tgt::Next,
    );
    asm.stmt(op::RET, BAD_ARCH_ACTION);
    asm.bind(arch_ok);
    asm.stmt(op::LD_ABS, OFF_NR);
    if resolved.arch.has_x32() {
        let native = asm.label();
        asm.jump(op::JGE, X32_SYSCALL_BIT, Tgt::Next, Tgt::Label(native));
        asm.stmt(op::RET, BAD_ARCH_ACTION);
        asm.bind(native);
    }
    let blocks_on_errors = !matches!(resolved.default_action, ret::ALLOW | ret::LOG);
    if let (Some(max), true) = (resolved.max_known_nr, blocks_on_errors) {
        let known = asm.label();
        asm.jump(op::JGT, max, Tgt::Next, Tgt::Label(known));
        asm.stmt(op::RET, ret::ERRNO | nix::libc::ENOSYS as u32);
        asm.bind(known);
    }

    // Unconditional rules, grouped by action so each group shares its `ret`s.
    let mut by_action: Vec<(u32, Vec<u32>)> = Vec::new();
    for (&nr, rules) in &resolved.rules {
        if let [Rule { conditions, action }] = &rules[..] {
            if conditions.is_empty() {
                match by_action.iter_mut().find(|(a, _)| a == action) {
                    Some((_, nrs)) => nrs.push(nr),
                    None => by_action.push((*action, vec![nr])),
                }
            }
        }
    }
    for (action, nrs) in &by_action {
        for chunk in nrs.chunks(CHUNK) {
            let hit = asm.label();
            let miss = asm.label();
            for (i, &nr) in chunk.iter().enumerate() {
                let jf = if i + 1 == chunk.len() {
                    Tgt::Label(miss)
                } else {
                    Tgt::Next
                };
                asm.jump(op::JEQ, nr, Tgt::Label(hit), jf);
            }
            asm.bind(hit);
            asm.stmt(op::RET, *action);
            asm.bind(miss);
        }
    }

    // Syscalls whose rules compare arguments: one block each, ending in the default action.
    for (&nr, rules) in &resolved.rules {
        if rules.iter().all(|r| !r.conditions.is_empty()) {
            let next_block = asm.label();
            asm.jump(op::JEQ, nr, Tgt::Next, Tgt::Label(next_block));
            for rule in rules {
                let next_rule = asm.label();
                for cond in &rule.conditions {
                    emit_condition(&mut asm, cond, next_rule);
                }
                asm.stmt(op::RET, rule.action);
                asm.bind(next_rule);
            }
            asm.stmt(op::RET, resolved.default_action);
            asm.bind(next_block);
        }
    }
    asm.stmt(op::RET, resolved.default_action);
    Ok(BpfProgram {
        insns: asm.finish()?,
    })
}

/// Emits a 64-bit comparison of one argument as two 32-bit halves (little-endian
/// seccomp_data: the low half first). Falls through when it holds, jumps to `fail` when not.
fn emit_condition(asm: &mut Asm, cond: &ArgCondition, fail: usize) {
    let lo_off = OFF_ARGS + 8 * cond.index;
    let hi_off = lo_off + 4;
    let (value, mask) = match cond.op {
        CompareOp::MaskedEqual => (cond.value_two & cond.value, cond.value),
        _ => (cond.value, u64::MAX),
    };
    let (v_hi, v_lo) = ((value >> 32) as u32, value as u32);
    let pass = asm.label();
    let (p, f) = (Tgt::Label(pass), Tgt::Label(fail));
    asm.stmt(op::LD_ABS, hi_off);
    match cond.op {
        CompareOp::Equal | CompareOp::MaskedEqual => {
            if cond.op == CompareOp::MaskedEqual {
                asm.stmt(op::AND, (mask >> 32) as u32);
            }
            asm.jump(op::JEQ, v_hi, Tgt::Next, f);
            asm.stmt(op::LD_ABS, lo_off);
            if cond.op == CompareOp::MaskedEqual {
                asm.stmt(op::AND, mask as u32);
            }
            asm.jump(op::JEQ, v_lo, p, f);
        }
        CompareOp::NotEqual => {
            asm.jump(op::JEQ, v_hi, Tgt::Next, p);
            asm.stmt(op::LD_ABS, lo_off);
            asm.jump(op::JEQ, v_lo, f, p);
        }
        // Greater: a higher high half passes, a lower one fails, an equal one decides on
        // the low half.
        CompareOp::GreaterThan | CompareOp::GreaterOrEqual => {
            asm.jump(op::JGT, v_hi, p, Tgt::Next);
            asm.jump(op::JEQ, v_hi, Tgt::Next, f);
            asm.stmt(op::LD_ABS, lo_off);
            let code = if cond.op == CompareOp::GreaterThan {
                op::JGT
            } else {
                op::JGE
            };
            asm.jump(code, v_lo, p, f);
        }
        // Less is the negation of greater-or-equal (LT) or of greater (LE).
        CompareOp::LessThan | CompareOp::LessOrEqual => {
            asm.jump(op::JGT, v_hi, f, Tgt::Next);
            asm.jump(op::JEQ, v_hi, Tgt::Next, p);
            asm.stmt(op::LD_ABS, lo_off);
            let code = if cond.op == CompareOp::LessThan {
                op::JGE
            } else {
                op::JGT
            };
            asm.jump(code, v_lo, f, p);
        }
    }
    asm.bind(pass);
}
