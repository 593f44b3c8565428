fn main() -> std::process::ExitCode {
    erratum::cli::run()
}
