//! The `berth` binary: hands over to `cli::run` and turns its result into an exit code.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The shim must carry neither the CLI nor an async runtime: it is chosen first.
    if let Some(code) = berth::engine::shim::main_if_requested(&args) {
        std::process::exit(code);
    }
    if let Some(code) = berth::engine::runtime::main_if_requested(&args) {
        std::process::exit(code);
    }
    std::process::exit(berth::cli::run(args));
}
