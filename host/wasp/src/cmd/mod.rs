//! One module per command.

pub mod demo;
pub mod inspect;
pub mod k8s;
pub mod merge;
pub mod new;
pub mod run;
pub mod shop;

/// `wasp scenarios`: print the annotated example, or check a file.
pub fn scenarios(args: crate::cli::ScenariosArgs) -> Result<i32, crate::exit::Fatal> {
    use std::io::Write;
    match args.check {
        Some(file) => {
            let s = crate::scenarios::read(&file, std::time::Duration::ZERO).map_err(crate::exit::Fatal::usage)?;
            for c in &s {
                let _ = writeln!(std::io::stdout(), "{}: {}", c.name, crate::scenarios::describe(&c.executor));
            }
        }
        None => {
            let _ = std::io::stdout().write_all(crate::scenarios::EXAMPLE.as_bytes());
        }
    }
    Ok(crate::exit::code::OK)
}
