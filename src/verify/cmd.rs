pub struct VerifyArgs {
    pub path: std::path::PathBuf,
    pub to: String,
    pub pipeline: Option<String>,
    pub runner: String,
    pub fail: Vec<String>,
    pub map_width: usize,
    pub format: crate::cli::Format,
}
pub fn run(_a: VerifyArgs) -> i32 {
    2
}
