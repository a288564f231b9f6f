//! `clp-nfsserve ADDR:PORT DIR`: an `NFSv3` server for clp-fsmon's integration tests, a second
//! server implementation beside NFS-Ganesha (SPEC §8: the probe's verdict is compared with a
//! real client's across server implementations).
//!
//! The protocol is the `nfsserve` crate's: `NFSv3`, MOUNT v3 and a stand-in portmapper, all on
//! the one TCP port it listens on (its portmapper answers every GETPORT with that same port; it
//! has no UDP). What this program adds is the file system behind it, which the crate leaves to
//! its user: [`Mirror`] serves the real directory DIR, read and write, as the server process
//! (root in the tests; no squashing). MOUNT's export path is DIR itself, so a probe's `-d DIR`
//! names it as it names a Ganesha export.
//!
//! File ids: nfsserve names every object by a 64-bit id and makes the file handle from it. The
//! root is id 1; every other path gets the next id the first time a client looks it up, lists
//! it or creates it, and keeps it for the server's life (a renamed or removed object's id
//! stays mapped to its old path, which then answers `NFS3ERR_NOENT`/`NFS3ERR_STALE` as a real
//! server's stale handle does).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use nfsserve::fs_util::{metadata_to_fattr3, path_setattr};
use nfsserve::nfs::{fattr3, fileid3, filename3, nfspath3, nfsstat3, sattr3};
use nfsserve::tcp::{NFSTcp, NFSTcpListener};
use nfsserve::vfs::{DirEntry, NFSFileSystem, ReadDirResult, VFSCapabilities};

/// The root directory's id.
const ROOT: fileid3 = 1;

/// Ids and paths, both ways.
struct Ids {
    paths: HashMap<fileid3, PathBuf>,
    of_path: HashMap<PathBuf, fileid3>,
    next: fileid3,
}

/// A directory of the real file system, served through nfsserve.
struct Mirror {
    ids: Mutex<Ids>,
}

/// The NFS status of a file system error.
fn status(e: &io::Error) -> nfsstat3 {
    match e.kind() {
        io::ErrorKind::NotFound => nfsstat3::NFS3ERR_NOENT,
        io::ErrorKind::PermissionDenied => nfsstat3::NFS3ERR_ACCES,
        io::ErrorKind::AlreadyExists => nfsstat3::NFS3ERR_EXIST,
        io::ErrorKind::NotADirectory => nfsstat3::NFS3ERR_NOTDIR,
        io::ErrorKind::IsADirectory => nfsstat3::NFS3ERR_ISDIR,
        io::ErrorKind::DirectoryNotEmpty => nfsstat3::NFS3ERR_NOTEMPTY,
        io::ErrorKind::ReadOnlyFilesystem => nfsstat3::NFS3ERR_ROFS,
        io::ErrorKind::StorageFull => nfsstat3::NFS3ERR_NOSPC,
        io::ErrorKind::QuotaExceeded => nfsstat3::NFS3ERR_DQUOT,
        io::ErrorKind::InvalidFilename => nfsstat3::NFS3ERR_NAMETOOLONG,
        _ => nfsstat3::NFS3ERR_IO,
    }
}

/// One path component from the wire: no separators, not `.` or `..`.
fn component(name: &filename3) -> Result<&Path, nfsstat3> {
    let b: &[u8] = name.as_ref();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(nfsstat3::NFS3ERR_INVAL);
    }
    Ok(Path::new(std::ffi::OsStr::from_bytes(b)))
}

impl Mirror {
    fn new(root: PathBuf) -> Self {
        Self {
            ids: Mutex::new(Ids {
                paths: HashMap::from([(ROOT, root.clone())]),
                of_path: HashMap::from([(root, ROOT)]),
                next: ROOT + 1,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ids> {
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The path of `id`.
    fn path(&self, id: fileid3) -> Result<PathBuf, nfsstat3> {
        self.lock()
            .paths
            .get(&id)
            .cloned()
            .ok_or(nfsstat3::NFS3ERR_STALE)
    }

    /// The id of `path`, given one now if it has none.
    fn id(&self, path: PathBuf) -> fileid3 {
        let mut ids = self.lock();
        if let Some(id) = ids.of_path.get(&path) {
            return *id;
        }
        let id = ids.next;
        ids.next += 1;
        ids.paths.insert(id, path.clone());
        ids.of_path.insert(path, id);
        id
    }

    /// The path of `name` in directory `dirid`.
    fn child(&self, dirid: fileid3, name: &filename3) -> Result<PathBuf, nfsstat3> {
        Ok(self.path(dirid)?.join(component(name)?))
    }

    /// Attributes of `id` (of the object itself, never a symbolic link's target).
    fn attr(&self, id: fileid3) -> Result<fattr3, nfsstat3> {
        let meta = fs::symlink_metadata(self.path(id)?).map_err(|e| status(&e))?;
        Ok(metadata_to_fattr3(id, &meta))
    }
}

#[async_trait]
impl NFSFileSystem for Mirror {
    fn capabilities(&self) -> VFSCapabilities {
        VFSCapabilities::ReadWrite
    }

    fn root_dir(&self) -> fileid3 {
        ROOT
    }

    async fn lookup(&self, dirid: fileid3, filename: &filename3) -> Result<fileid3, nfsstat3> {
        let b: &[u8] = filename.as_ref();
        if b == b"." {
            return Ok(dirid);
        }
        let path = self.child(dirid, filename)?;
        fs::symlink_metadata(&path).map_err(|e| status(&e))?;
        Ok(self.id(path))
    }

    async fn getattr(&self, id: fileid3) -> Result<fattr3, nfsstat3> {
        self.attr(id)
    }

    async fn setattr(&self, id: fileid3, setattr: sattr3) -> Result<fattr3, nfsstat3> {
        path_setattr(&self.path(id)?, &setattr).await?;
        self.attr(id)
    }

    async fn read(
        &self,
        id: fileid3,
        offset: u64,
        count: u32,
    ) -> Result<(Vec<u8>, bool), nfsstat3> {
        let mut f = fs::File::open(self.path(id)?).map_err(|e| status(&e))?;
        let len = f.metadata().map_err(|e| status(&e))?.len();
        f.seek(SeekFrom::Start(offset)).map_err(|e| status(&e))?;
        let mut buf = Vec::new();
        f.take(u64::from(count))
            .read_to_end(&mut buf)
            .map_err(|e| status(&e))?;
        let eof = offset + buf.len() as u64 >= len;
        Ok((buf, eof))
    }

    async fn write(&self, id: fileid3, offset: u64, data: &[u8]) -> Result<fattr3, nfsstat3> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(self.path(id)?)
            .map_err(|e| status(&e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| status(&e))?;
        f.write_all(data).map_err(|e| status(&e))?;
        f.sync_data().map_err(|e| status(&e))?;
        self.attr(id)
    }

    async fn create(
        &self,
        dirid: fileid3,
        filename: &filename3,
        attr: sattr3,
    ) -> Result<(fileid3, fattr3), nfsstat3> {
        let path = self.child(dirid, filename)?;
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| status(&e))?;
        path_setattr(&path, &attr).await?;
        let id = self.id(path);
        Ok((id, self.attr(id)?))
    }

    async fn create_exclusive(
        &self,
        dirid: fileid3,
        filename: &filename3,
    ) -> Result<fileid3, nfsstat3> {
        let path = self.child(dirid, filename)?;
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| status(&e))?;
        Ok(self.id(path))
    }

    async fn mkdir(
        &self,
        dirid: fileid3,
        dirname: &filename3,
    ) -> Result<(fileid3, fattr3), nfsstat3> {
        let path = self.child(dirid, dirname)?;
        fs::create_dir(&path).map_err(|e| status(&e))?;
        let id = self.id(path);
        Ok((id, self.attr(id)?))
    }

    async fn remove(&self, dirid: fileid3, filename: &filename3) -> Result<(), nfsstat3> {
        let path = self.child(dirid, filename)?;
        let meta = fs::symlink_metadata(&path).map_err(|e| status(&e))?;
        if meta.is_dir() {
            fs::remove_dir(&path)
        } else {
            fs::remove_file(&path)
        }
        .map_err(|e| status(&e))
    }

    async fn rename(
        &self,
        from_dirid: fileid3,
        from_filename: &filename3,
        to_dirid: fileid3,
        to_filename: &filename3,
    ) -> Result<(), nfsstat3> {
        let from = self.child(from_dirid, from_filename)?;
        let to = self.child(to_dirid, to_filename)?;
        fs::rename(&from, &to).map_err(|e| status(&e))?;
        // The object keeps its id (its handle) under its new name.
        let mut ids = self.lock();
        if let Some(id) = ids.of_path.remove(&from) {
            ids.paths.insert(id, to.clone());
            ids.of_path.insert(to, id);
        }
        Ok(())
    }

    async fn readdir(
        &self,
        dirid: fileid3,
        start_after: fileid3,
        max_entries: usize,
    ) -> Result<ReadDirResult, nfsstat3> {
        let dir = self.path(dirid)?;
        let mut names: Vec<_> = fs::read_dir(&dir)
            .map_err(|e| status(&e))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        // Listing order must be the same at every call: by name.
        names.sort();
        let ids: Vec<fileid3> = names.iter().map(|n| self.id(dir.join(n))).collect();
        let start = if start_after == 0 {
            0
        } else {
            ids.iter()
                .position(|id| *id == start_after)
                .map_or(ids.len(), |i| i + 1)
        };
        let mut entries = Vec::new();
        for (name, id) in names.iter().zip(&ids).skip(start) {
            if entries.len() == max_entries {
                return Ok(ReadDirResult {
                    entries,
                    end: false,
                });
            }
            // An entry removed since the listing is left out.
            if let Ok(attr) = self.attr(*id) {
                entries.push(DirEntry {
                    fileid: *id,
                    name: name.as_bytes().into(),
                    attr,
                });
            }
        }
        Ok(ReadDirResult { entries, end: true })
    }

    async fn symlink(
        &self,
        dirid: fileid3,
        linkname: &filename3,
        symlink: &nfspath3,
        _attr: &sattr3,
    ) -> Result<(fileid3, fattr3), nfsstat3> {
        let path = self.child(dirid, linkname)?;
        let target: &[u8] = symlink.as_ref();
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), &path)
            .map_err(|e| status(&e))?;
        let id = self.id(path);
        Ok((id, self.attr(id)?))
    }

    async fn readlink(&self, id: fileid3) -> Result<nfspath3, nfsstat3> {
        let target = fs::read_link(self.path(id)?).map_err(|e| status(&e))?;
        Ok(target.as_os_str().as_bytes().into())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, bind, dir] = &args[..] else {
        eprintln!("usage: clp-nfsserve ADDR:PORT DIR");
        std::process::exit(2);
    };
    let root = fs::canonicalize(dir).unwrap_or_else(|e| {
        eprintln!("clp-nfsserve: {dir}: {e}");
        std::process::exit(2);
    });
    let export = root.to_string_lossy().into_owned();
    let mut listener = NFSTcpListener::bind(bind, Mirror::new(root))
        .await
        .unwrap_or_else(|e| {
            eprintln!("clp-nfsserve: cannot listen on {bind}: {e}");
            std::process::exit(1);
        });
    listener.with_export_name(&export);
    eprintln!(
        "clp-nfsserve: serving {export} on {}:{}",
        listener.get_listen_ip(),
        listener.get_listen_port()
    );
    if let Err(e) = listener.handle_forever().await {
        eprintln!("clp-nfsserve: {e}");
        std::process::exit(1);
    }
}
