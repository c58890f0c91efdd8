//! Runs compiled programs in a small classic-BPF interpreter on synthetic `seccomp_data`, to
//! check what each syscall would get without installing anything.

use super::bpf::op;
use super::resolve::ret;
use super::*;
use crate::engine::security::caps::{parse_name, CapSet};

/// Runs `program` on `seccomp_data { nr, arch, ip: 0, args }` and returns its verdict.
fn run(program: &BpfProgram, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = Vec::with_capacity(64);
    data.extend_from_slice(&nr.to_le_bytes());
    data.extend_from_slice(&arch.to_le_bytes());
    data.extend_from_slice(&0u64.to_le_bytes());
    for a in args {
        data.extend_from_slice(&a.to_le_bytes());
    }
    let insns = program.instructions();
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let i = insns[pc];
        pc += 1;
        let jump = |cond: bool| if cond { i.jt as usize } else { i.jf as usize };
        match i.code {
            op::LD_ABS => {
                let at = i.k as usize;
                acc = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
            }
            op::AND => acc &= i.k,
            op::JEQ => pc += jump(acc == i.k),
            op::JGT => pc += jump(acc > i.k),
            op::JGE => pc += jump(acc >= i.k),
            op::RET => return i.k,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

fn program(extra_caps: &[&str], arch: Arch) -> BpfProgram {
    let mut caps = CapSet::docker_default();
    for c in extra_caps {
        caps.insert(parse_name(c).unwrap());
    }
    let target = Target {
        caps,
        arch,
        kernel: KernelVersion(6, 1),
    };
    compile(&resolve(&Profile::docker_default().unwrap(), &target).unwrap()).unwrap()
}

const X86: u32 = 0xC000_003E;
const EPERM: u32 = ret::ERRNO | 1;

fn x86(p: &BpfProgram, name: &str, args: [u64; 6]) -> u32 {
    run(p, X86, Arch::X86_64.syscall_number(name).unwrap(), args)
}

#[test]
fn default_profile_verdicts_on_x86_64() {
    let p = program(&[], Arch::X86_64);
    assert!(p.instructions().len() < 600, "{}", p.instructions().len());
    assert_eq!(x86(&p, "read", [0; 6]), ret::ALLOW);
    assert_eq!(x86(&p, "write", [0; 6]), ret::ALLOW);
    assert_eq!(x86(&p, "unshare", [0; 6]), EPERM);
    assert_eq!(x86(&p, "mount", [0; 6]), EPERM);
    assert_eq!(x86(&p, "keyctl", [0; 6]), EPERM);
    assert_eq!(x86(&p, "clone3", [0; 6]), ret::ERRNO | 38);
    assert_eq!(x86(&p, "arch_prctl", [0; 6]), ret::ALLOW);
}

#[test]
fn personality_only_with_listed_values() {
    let p = program(&[], Arch::X86_64);
    assert_eq!(x86(&p, "personality", [0; 6]), ret::ALLOW);
    assert_eq!(x86(&p, "personality", [8, 0, 0, 0, 0, 0]), ret::ALLOW);
    assert_eq!(
        x86(&p, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        ret::ALLOW
    );
    assert_eq!(x86(&p, "personality", [0xffff, 0, 0, 0, 0, 0]), EPERM);
    // The high half counts: 2^32 is not 0.
    assert_eq!(x86(&p, "personality", [1 << 32, 0, 0, 0, 0, 0]), EPERM);
}

#[test]
fn clone_namespace_flags_need_sys_admin() {
    let p = program(&[], Arch::X86_64);
    let thread_flags = 0x003d_0f00; // what pthread_create passes
    assert_eq!(x86(&p, "clone", [thread_flags, 0, 0, 0, 0, 0]), ret::ALLOW);
    let newuser = 0x1000_0000;
    assert_eq!(x86(&p, "clone", [newuser | 0x11, 0, 0, 0, 0, 0]), EPERM);
    let newns = 0x0002_0000;
    assert_eq!(x86(&p, "clone", [newns, 0, 0, 0, 0, 0]), EPERM);
    let admin = program(&["CAP_SYS_ADMIN"], Arch::X86_64);
    assert_eq!(x86(&admin, "clone", [newuser, 0, 0, 0, 0, 0]), ret::ALLOW);
    assert_eq!(x86(&admin, "unshare", [0; 6]), ret::ALLOW);
    assert_eq!(x86(&admin, "mount", [0; 6]), ret::ALLOW);
}

#[test]
fn socket_families_compare_lt_eq_gt() {
    let p = program(&[], Arch::X86_64);
    let socket = |family: u64| x86(&p, "socket", [family, 1, 0, 0, 0, 0]);
    assert_eq!(socket(2), ret::ALLOW, "AF_INET");
    assert_eq!(socket(37), ret::ALLOW);
    assert_eq!(socket(38), EPERM, "AF_ALG is refused");
    assert_eq!(socket(39), ret::ALLOW);
    assert_eq!(socket(40), EPERM, "AF_VSOCK is refused");
    assert_eq!(socket(41), ret::ALLOW);
    assert_eq!(socket(1 << 32), ret::ALLOW, "GT looks at the high half");
}

#[test]
fn foreign_arches_x32_and_new_syscalls() {
    let p = program(&[], Arch::X86_64);
    let i386 = 0x4000_0003;
    assert_eq!(run(&p, i386, 3, [0; 6]), bpf::BAD_ARCH_ACTION);
    assert_eq!(
        run(&p, X86, 0x4000_0000, [0; 6]),
        bpf::BAD_ARCH_ACTION,
        "x32 read"
    );
    assert_eq!(
        run(&p, X86, 1000, [0; 6]),
        ret::ERRNO | 38,
        "unknown to the profile"
    );
    // Known to the profile but not allowed: EPERM, not ENOSYS.
    assert_eq!(x86(&p, "kexec_load", [0; 6]), EPERM);
}

#[test]
fn aarch64_program_uses_its_own_numbers() {
    let p = program(&[], Arch::Aarch64);
    let a64 = 0xC000_00B7;
    assert_eq!(run(&p, a64, 63, [0; 6]), ret::ALLOW, "read is 63");
    assert_eq!(run(&p, a64, 97, [0; 6]), EPERM, "unshare is 97");
    assert_eq!(run(&p, X86, 0, [0; 6]), bpf::BAD_ARCH_ACTION);
    assert_eq!(
        run(&p, a64, 0x4000_0000, [0; 6]),
        ret::ERRNO | 38,
        "no x32 on arm64"
    );
}

#[test]
fn user_profile_with_every_comparison() {
    let p = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[
                {"index":0,"value":10,"op":"SCMP_CMP_GE"},
                {"index":2,"value":100,"op":"SCMP_CMP_LE"}]},
            {"names":["write"],"action":"SCMP_ACT_KILL_PROCESS","args":[
                {"index":1,"value":4294967296,"op":"SCMP_CMP_LT"}]},
            {"names":["kill"],"action":"SCMP_ACT_TRAP","args":[
                {"index":1,"value":9,"op":"SCMP_CMP_NE"}]},
            {"names":["openat"],"action":"SCMP_ACT_LOG","args":[
                {"index":2,"value":3,"op":"SCMP_CMP_MASKED_EQ","valueTwo":1}]},
            {"names":["getpid"],"action":"SCMP_ACT_TRACE","errnoRet":7}]}"#,
    )
    .unwrap();
    let target = Target {
        caps: CapSet::EMPTY,
        arch: Arch::X86_64,
        kernel: KernelVersion(6, 1),
    };
    let p = compile(&resolve(&p, &target).unwrap()).unwrap();
    let v = |name: &str, args: [u64; 6]| x86(&p, name, args);
    // read: arg0 >= 10 AND arg2 <= 100.
    assert_eq!(v("read", [10, 0, 100, 0, 0, 0]), ret::ERRNO | 5);
    assert_eq!(v("read", [9, 0, 100, 0, 0, 0]), ret::ALLOW);
    assert_eq!(v("read", [10, 0, 101, 0, 0, 0]), ret::ALLOW);
    assert_eq!(v("read", [1 << 40, 0, 0, 0, 0, 0]), ret::ERRNO | 5);
    assert_eq!(v("read", [10, 0, 1 << 32, 0, 0, 0]), ret::ALLOW);
    // write: arg1 < 2^32.
    assert_eq!(v("write", [0, 0xffff_ffff, 0, 0, 0, 0]), ret::KILL_PROCESS);
    assert_eq!(v("write", [0, 1 << 32, 0, 0, 0, 0]), ret::ALLOW);
    // kill: arg1 != 9, in either half.
    assert_eq!(v("kill", [1, 9, 0, 0, 0, 0]), ret::ALLOW);
    assert_eq!(v("kill", [1, 15, 0, 0, 0, 0]), ret::TRAP);
    assert_eq!(v("kill", [1, (1 << 32) | 9, 0, 0, 0, 0]), ret::TRAP);
    // openat: arg2 & 3 == 1.
    assert_eq!(v("openat", [0, 0, 0o101, 0, 0, 0]), ret::LOG);
    assert_eq!(v("openat", [0, 0, 2, 0, 0, 0]), ret::ALLOW);
    assert_eq!(v("getpid", [0; 6]), ret::TRACE | 7);
    // An allowing default needs no ENOSYS stub.
    assert_eq!(run(&p, X86, 1000, [0; 6]), ret::ALLOW);
}
