//! Writing the outputs of `extract`: all of them replaced, or none.
//!
//! Each output is first staged in a temporary file created exclusively
//! (`O_EXCL`, an unpredictable name from the `tempfile` crate, so a symlink
//! planted at a guessed name is never followed) in the output's own
//! directory, written and synced. Only when every output is staged are they
//! renamed into place, in order; rename replaces a symlink at the output
//! path instead of writing through it. Should a later rename fail, the
//! earlier outputs are put back as they were (from a hard link taken just
//! before each was replaced, or removed if they did not exist).

use std::ffi::OsString;
use std::fs::{self, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use tempfile::{Builder, NamedTempFile, TempPath};

/// Where `path` is written: its directory (`.` for a bare name) and its
/// file name. `None` when `path` names no file (`/`, `..`, `dir/..`).
pub fn place(path: &Path) -> Option<(PathBuf, OsString)> {
    let name = path.file_name()?.to_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((dir, name))
}

/// Whether `a` and `b` name the same directory entry: the same file name in
/// the same directory after resolving the directory (symlinks, `.`, `..`).
/// The file name itself is not resolved: a symlink at the output path is
/// replaced, not written through.
pub fn same_place(a: &Path, b: &Path) -> bool {
    let canon =
        |p: &Path| place(p).map(|(dir, name)| (fs::canonicalize(&dir).unwrap_or(dir), name));
    canon(a) == canon(b)
}

/// One output, written to a temporary file beside its destination.
pub struct Staged {
    tmp: NamedTempFile,
    dest: PathBuf,
}

/// Stages `data` for `dest`.
///
/// # Errors
/// `dest` names no file, or creating, writing or syncing the temporary file
/// failed (it is removed again).
pub fn stage(dest: &Path, data: &[u8]) -> io::Result<Staged> {
    let (dir, name) = place(dest)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut tmp = Builder::new()
        .prefix(".rvf-boot-")
        .suffix(".tmp")
        // What File::create would give (0666 less the umask), not 0600.
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(&dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    Ok(Staged {
        tmp,
        dest: dir.join(name),
    })
}

/// An output that was replaced, and how to undo that.
struct Replaced {
    dest: PathBuf,
    /// A hard link to what `dest` held before, or `None` if it did not exist.
    previous: Option<TempPath>,
}

impl Replaced {
    fn undo(self) -> io::Result<()> {
        match self.previous {
            Some(prev) => {
                fs::rename(&prev, &self.dest)?;
                // The link is `dest` again: nothing left to clean up.
                let _ = prev.keep();
                Ok(())
            }
            None => fs::remove_file(&self.dest),
        }
    }
}

/// A failure while replacing the outputs.
#[derive(Debug)]
pub struct CommitError {
    /// The output whose step failed.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
    /// Outputs that had been replaced and could not be put back.
    pub not_restored: Vec<(PathBuf, io::Error)>,
}

/// Renames every staged output into place, or leaves every destination as
/// it was (see the module doc).
///
/// # Errors
/// The first failing step; `not_restored` lists what could not be undone.
pub fn commit(staged: Vec<Staged>) -> Result<(), CommitError> {
    let count = staged.len();
    let mut done: Vec<Replaced> = Vec::new();
    for (i, s) in staged.into_iter().enumerate() {
        let dest = s.dest.clone();
        let step = (|| {
            // The last rename needs no way back: nothing after it can fail.
            let previous = if i + 1 < count {
                keep_previous(&dest)?
            } else {
                None
            };
            s.tmp.persist(&dest).map_err(|e| e.error)?;
            Ok(Replaced {
                dest: dest.clone(),
                previous,
            })
        })();
        match step {
            Ok(r) => done.push(r),
            Err(error) => {
                let not_restored = done
                    .into_iter()
                    .rev()
                    .filter_map(|r| {
                        let p = r.dest.clone();
                        r.undo().err().map(|e| (p, e))
                    })
                    .collect();
                return Err(CommitError {
                    path: dest,
                    error,
                    not_restored,
                });
            }
        }
    }
    // Every output is in place: make the renames durable (best effort),
    // then the old contents go.
    for r in &done {
        if let Some((dir, _)) = place(&r.dest) {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
    }
    drop(done);
    Ok(())
}

/// A hard link (unpredictable name, same directory) to whatever `dest`
/// holds, so it can be put back; `None` if `dest` does not exist. The link
/// is to the directory entry itself: a symlink is kept as a symlink.
fn keep_previous(dest: &Path) -> io::Result<Option<TempPath>> {
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let (dir, _) = place(dest)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let link = Builder::new()
        .prefix(".rvf-boot-")
        .suffix(".old")
        .make_in(&dir, |p| fs::hard_link(dest, p))?;
    Ok(Some(link.into_temp_path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rvf-boot-out-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn staging_never_follows_a_planted_symlink() {
        let d = tmpdir("planted");
        let victim = d.join("victim");
        fs::write(&victim, b"keep me").unwrap();
        // The name the old code used, with this very process's pid.
        let old_name = d.join(format!(".vmlinuz.rvf-boot-{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &old_name).unwrap();
        let dest = d.join("vmlinuz");
        let a = stage(&dest, b"image").unwrap();
        let b = stage(&dest, b"image").unwrap();
        // Unpredictable: fresh names, no pid in them, in OUT's directory.
        let pid = std::process::id().to_string();
        for s in [&a, &b] {
            let p = s.tmp.path();
            assert_eq!(p.parent(), Some(d.as_path()));
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with(".rvf-boot-") && !name.contains(&pid),
                "{name}"
            );
            assert!(fs::symlink_metadata(p).unwrap().file_type().is_file());
        }
        assert_ne!(a.tmp.path(), b.tmp.path());
        drop(b);
        commit(vec![a]).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"image");
        assert_eq!(fs::read(&victim).unwrap(), b"keep me");
        let mut names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                old_name.file_name().unwrap().to_str().unwrap(),
                "victim",
                "vmlinuz"
            ]
        );
    }

    #[test]
    fn places_and_spellings() {
        assert_eq!(
            place(Path::new("x")),
            Some((PathBuf::from("."), OsString::from("x")))
        );
        assert_eq!(
            place(Path::new("/a/b")),
            Some((PathBuf::from("/a"), OsString::from("b")))
        );
        assert_eq!(place(Path::new("/")), None);
        assert_eq!(place(Path::new("a/..")), None);
        let d = tmpdir("spellings");
        fs::create_dir(d.join("sub")).unwrap();
        assert!(same_place(&d.join("x"), &d.join("sub/../x")));
        assert!(same_place(&d.join("x"), &d.join("./x")));
        assert!(!same_place(&d.join("x"), &d.join("sub/x")));
    }
}
