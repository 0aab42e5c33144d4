fn main() -> std::process::ExitCode {
    momentum::cli::main()
}
