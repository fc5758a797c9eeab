//! `wasp new NAME --lang rust|python|js`: a plugin project outside the
//! repository, from templates embedded in the binary: code with a GET and a
//! POST task (against `wasp shop`'s routes), the build file, `.gitignore` and
//! a README with the build and run commands.

use crate::cli::{Lang, NewArgs};
use crate::exit::{code, Fatal};
use std::path::{Path, PathBuf};

/// (file in the project, template).
fn templates(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::Rust => &[
            ("Cargo.toml", include_str!("../../templates/rust/Cargo.toml.tmpl")),
            ("src/lib.rs", include_str!("../../templates/rust/lib.rs.tmpl")),
            (".gitignore", include_str!("../../templates/rust/gitignore.tmpl")),
            ("README.md", include_str!("../../templates/rust/README.md.tmpl")),
        ],
        Lang::Python => &[
            ("app.py", include_str!("../../templates/python/app.py.tmpl")),
            (".gitignore", include_str!("../../templates/python/gitignore.tmpl")),
            ("README.md", include_str!("../../templates/python/README.md.tmpl")),
        ],
        Lang::Js => &[
            ("package.json", include_str!("../../templates/js/package.json.tmpl")),
            ("app.js", include_str!("../../templates/js/app.js.tmpl")),
            (".gitignore", include_str!("../../templates/js/gitignore.tmpl")),
            ("README.md", include_str!("../../templates/js/README.md.tmpl")),
        ],
    }
}

/// A project name: what Cargo, pip and npm all accept as a package name.
fn check_name(name: &str) -> Result<(), Fatal> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_lowercase()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Fatal::usage(format!("'{name}' is not a project name: lower-case letters, digits, '-' and '_', starting with a letter")))
    }
}

/// How the project refers to the SDK: the registry's version, or `--sdk`'s folder.
fn sdk(lang: Lang, dir: Option<&Path>) -> Result<String, Fatal> {
    let version = env!("CARGO_PKG_VERSION");
    let Some(dir) = dir else {
        return Ok(match lang {
            Lang::Rust => format!("\"{version}\""),
            Lang::Python => format!("wasp-sdk=={version}"),
            Lang::Js => format!("^{version}"),
        });
    };
    let dir = dir.canonicalize().map_err(|e| Fatal::usage(format!("--sdk {}: {e}", dir.display())))?;
    // The folder of the language's SDK: given directly, or the repository's root.
    let (marker, sub) = match lang {
        Lang::Rust => ("Cargo.toml", "guest-sdk"),
        Lang::Python => ("pyproject.toml", "guest-sdk/python"),
        Lang::Js => ("package.json", "guest-sdk/js"),
    };
    let found = [dir.clone(), dir.join(sub)].into_iter().find(|d| d.join(marker).is_file() && (lang != Lang::Rust || d.join("src/glue.rs").is_file()));
    let found = found.ok_or_else(|| Fatal::usage(format!("--sdk {}: no {} SDK there (nor in {sub}/)", dir.display(), lang.name())))?;
    let shown = found.display().to_string();
    Ok(match lang {
        Lang::Rust => format!("{{ version = \"{version}\", path = {shown:?} }}"),
        Lang::Python => shown,
        Lang::Js => format!("file:{shown}"),
    })
}

pub fn main(args: NewArgs) -> Result<i32, Fatal> {
    check_name(&args.name)?;
    let dir: PathBuf = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Fatal::usage(format!("{} exists and is not empty: give another name or --dir", dir.display())));
    }
    let sdk = sdk(args.lang, args.sdk.as_deref())?;
    let crate_name = args.name.replace('-', "_");
    for (file, template) in templates(args.lang) {
        let text = template.replace("{{name}}", &args.name).replace("{{crate}}", &crate_name).replace("{{sdk}}", &sdk);
        let path = dir.join(file);
        let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|_| std::fs::write(&path, text));
        written.map_err(|e| Fatal { code: code::UNWRITTEN, message: format!("cannot write {}: {e}", path.display()) })?;
    }
    let build = match args.lang {
        Lang::Rust => "cargo build --release --target wasm32-wasip2".to_string(),
        Lang::Python => format!("wasp-build app.py -o {}.wasm", args.name),
        Lang::Js => "npm install && npm run build".to_string(),
    };
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "created {} ({} plugin): cd {} && {build}  (see its README.md)", dir.display(), args.lang.name(), dir.display());
    Ok(code::OK)
}
