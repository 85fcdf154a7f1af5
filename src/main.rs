fn main() {
    std::process::exit(preflight::cli::main());
}
