"""A correct model.tar.gz packager for the three deploy targets of DESIGN §2, one function per
stage, with one switch per packager bug that packtest's report must diagnose. Each script next
to this file turns on exactly one bug (its diagnosis id); `correct.py` turns on none and also
refuses an empty model dir.

What the correct packager does (every target):
- walks the model dir with lstat, each directory's entries sorted by name bytes, depth-first;
- names are bare relative paths (`model.pt`, `1/variables/...`), no root entry;
- keeps every empty dir and the exec bits; modes 0755 (dirs, executables) or 0644, readable
  by a server running as another user; uid, gid and mtime 0; GNU format;
- one gzip member, header mtime 0 and no file name;
- skips sockets (no archive can hold one);
- writes atomically: a temp file beside the output (never inside the model dir), renamed at
  the end, removed on any failure; a refusal exits 1 with a message on stderr and leaves no
  file at the output path.

Per target, for what the model dir holds (DESIGN §2 "What the consumer must get"):
| entry | sagemaker | posix | kserve |
|---|---|---|---|
| symlink resolving inside | its content (file or dir) | a symlink | relative: a symlink; absolute: its content |
| symlink out / dangling / loop / dir cycle | refuse | a symlink | refuse |
| hard link | a full copy | a link member | a link member |
| FIFO, device | refuse | that type | refuse |

The stages are streamed, as real packagers stream: a refusal found half-way leaves a partial
temp file, which the correct `open_output` removes and the `partial-archive-left` bug does not.
"""
import argparse
import gzip
import hashlib
import os
import stat
import sys
import tarfile
import tempfile
import time

# The diagnosis ids (packtest's report), one switch each.
BUGS = (
    "dot-names-missing",
    "extra-top-folder",
    "absolute-names",
    "symlinks-stored",
    "hard-links-stored",
    "outside-bytes",
    "empty-dirs-dropped",
    "special-files-stored",
    "special-files-dropped",
    "partial-archive-left",
    "exit-zero-without-archive",
    "output-inside-model-dir",
    "not-reproducible",
    "special-files-read",
    "timed-out",
)
TARGETS = ("sagemaker", "posix", "kserve")


class Refuse(Exception):
    """What the target's consumer cannot take: the packager must fail loudly."""


class Packer:
    def __init__(self, model_dir, output, target="sagemaker", bug=None, refuse_empty=False):
        if bug is not None and bug not in BUGS:
            raise ValueError(f"unknown bug {bug!r}")
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}")
        self.model_dir = os.path.abspath(model_dir)
        self.real_model = os.path.realpath(self.model_dir)
        self.output = os.path.abspath(output)
        self.target = target
        self.bug = bug
        self.refuse_empty = refuse_empty
        self.inodes = {}  # (dev, ino) -> member name of the first copy stored

    # ---- stage 1: inputs -------------------------------------------------------------------

    def check_inputs(self):
        if not os.path.isdir(self.model_dir):
            raise Refuse(f"{self.model_dir}: not a directory")
        out_dir = os.path.realpath(os.path.dirname(self.output))
        if self.inside(out_dir) and self.bug != "output-inside-model-dir":
            raise Refuse(f"{self.output}: the output must not be inside the model dir")
        if self.refuse_empty and not self.has_regular_file():
            raise Refuse(f"{self.model_dir} holds no regular file: refusing to ship an empty model")

    def has_regular_file(self):
        for root, dirs, files in os.walk(self.model_dir):
            for n in files:
                if stat.S_ISREG(os.lstat(os.path.join(root, n)).st_mode):
                    return True
        return False

    def inside(self, real):
        return real == self.real_model or real.startswith(self.real_model.rstrip("/") + "/")

    # ---- stage 2: where the bytes go -------------------------------------------------------

    def open_output(self):
        """Returns the path written to. Correct: a temp file beside the output."""
        if self.bug == "partial-archive-left":
            return self.output  # writes in place; nothing removes it on failure
        if self.bug == "output-inside-model-dir":
            # "stage next to the model", then move: the walk meets the half-written file
            tmp = os.path.join(self.model_dir, "model.tar.gz.tmp")
            open(tmp, "xb").close()
            return tmp
        where = os.path.dirname(self.output)
        fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".tar.gz.tmp", dir=where)
        os.close(fd)
        return tmp

    def finish_output(self, tmp):
        if tmp != self.output:
            os.replace(tmp, self.output)

    def abort_output(self, tmp):
        if self.bug == "partial-archive-left":
            return
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass

    # ---- stage 3: names --------------------------------------------------------------------

    def prefix(self):
        if self.bug == "extra-top-folder":
            return os.path.basename(self.model_dir.rstrip("/")) + "/"
        if self.bug == "absolute-names":
            # what `tar -czf out /abs/model` and tarfile's add("/abs/model") store: the
            # absolute path, its leading "/" stripped
            return self.model_dir.strip("/") + "/"
        return ""

    def listdir(self, real_dir, top):
        names = sorted(os.listdir(os.fsencode(real_dir)))
        names = [os.fsdecode(n) for n in names]
        if top and self.bug == "dot-names-missing":
            names = [n for n in names if not n.startswith(".")]  # what a shell `*` expands to
        return names

    # ---- stage 4: what each entry becomes --------------------------------------------------

    def resolve(self, path):
        """The real path a symlink leads to, or a Refuse saying why it cannot be followed."""
        try:
            return os.path.realpath(path, strict=True)
        except FileNotFoundError:
            raise Refuse(f"{path}: a dangling symlink (-> {os.readlink(path)})")
        except OSError as e:
            raise Refuse(f"{path}: a symlink that cannot be resolved (-> {os.readlink(path)}): {e}")

    def kserve_relative_inside(self, path, target):
        """Python's data filter: a relative target that stays inside, resolved lexically from
        the link's dir with the model dir as floor."""
        parent = os.path.relpath(os.path.dirname(path), self.model_dir)
        depth = 0 if parent == "." else len(parent.split("/"))
        for c in target.split("/"):
            if c in ("", "."):
                continue
            if c == "..":
                depth -= 1
                if depth < 0:
                    return False
            else:
                depth += 1
        return True

    def add_symlink(self, tar, arc, path, ancestors):
        target = os.readlink(path)
        if self.target == "posix" or self.bug == "symlinks-stored":
            return self.member(tar, arc, path, tarfile.SYMTYPE, linkname=target)
        real = self.resolve(path)
        if not self.inside(real):
            if self.bug != "outside-bytes":
                raise Refuse(f"{path}: a symlink that leaves the model dir (-> {target})")
        elif self.target == "kserve" and not target.startswith("/"):
            if not self.kserve_relative_inside(path, target):
                raise Refuse(f"{path}: a relative symlink that climbs out of the model dir (-> {target})")
            return self.member(tar, arc, path, tarfile.SYMTYPE, linkname=target)
        # dereference: store the content of what it points to
        st = os.stat(real)
        if stat.S_ISDIR(st.st_mode):
            if any(real == a or a.startswith(real.rstrip("/") + "/") for a in ancestors):
                raise Refuse(f"{path}: a symlink to one of its own parent dirs (-> {target})")
            self.member(tar, arc, real, tarfile.DIRTYPE, st=st)
            self.walk(tar, real, arc, ancestors + [real])
        elif stat.S_ISREG(st.st_mode):
            self.add_file(tar, arc, real, st, copy=True)
        elif stat.S_ISSOCK(st.st_mode):
            return
        else:
            raise Refuse(f"{path}: a symlink to a FIFO or device (-> {target})")

    def add_file(self, tar, arc, path, st, copy=False):
        key = (st.st_dev, st.st_ino)
        links_ok = self.target in ("posix", "kserve") or self.bug == "hard-links-stored"
        if not copy and links_ok and st.st_nlink > 1 and key in self.inodes:
            return self.member(tar, arc, path, tarfile.LNKTYPE, st=st, linkname=self.inodes[key])
        if not copy and st.st_nlink > 1:
            self.inodes.setdefault(key, arc)
        self.member(tar, arc, path, tarfile.REGTYPE, st=st)

    def add_special(self, tar, arc, path, st):
        if self.target == "posix" or self.bug == "special-files-stored":
            kind = {stat.S_IFIFO: tarfile.FIFOTYPE, stat.S_IFCHR: tarfile.CHRTYPE,
                    stat.S_IFBLK: tarfile.BLKTYPE}[stat.S_IFMT(st.st_mode)]
            return self.member(tar, arc, path, kind, st=st)
        if self.bug == "special-files-dropped":
            return  # "tar cannot hold pipes anyway"
        raise Refuse(f"{path}: a FIFO or device, which {self.target} cannot extract")

    def mode(self, kind, st):
        """0755 for dirs and for files with any exec bit, 0644 for the rest: readable by a
        server that runs as another user, the exec bits kept (DESIGN §2 `normalized`)."""
        if kind == tarfile.SYMTYPE:
            return 0o777
        full = 0o755 if kind == tarfile.DIRTYPE or st.st_mode & 0o111 else 0o644
        if self.bug == "not-reproducible":
            # the bug: "modes as a fresh file would get them", i.e. masked by the umask
            umask = os.umask(0)
            os.umask(umask)
            return (0o777 if full == 0o755 else 0o666) & ~umask
        return full

    def member(self, tar, arc, path, kind, st=None, linkname=""):
        if kind == tarfile.DIRTYPE and self.bug == "empty-dirs-dropped":
            return  # it only adds files: a dir comes back only as its files' parent
        st = st or os.lstat(path)
        ti = tarfile.TarInfo(self.prefix() + arc)
        ti.type = kind
        ti.mode = self.mode(kind, st)
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        if kind == tarfile.LNKTYPE:
            ti.linkname = self.prefix() + linkname
        else:
            ti.linkname = linkname
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        if kind == tarfile.REGTYPE:
            ti.size = st.st_size
            with open(path, "rb") as f:
                tar.addfile(ti, f)
        else:
            tar.addfile(ti)

    # ---- stage 5: the walk -----------------------------------------------------------------

    def walk(self, tar, real_dir, rel, ancestors):
        top = rel == ""
        for name in self.listdir(real_dir, top):
            path = os.path.join(real_dir, name)
            arc = name if top else rel + "/" + name
            st = os.lstat(path)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                self.member(tar, arc, path, tarfile.DIRTYPE, st=st)
                self.walk(tar, path, arc, ancestors + [os.path.realpath(path)])
            elif stat.S_ISREG(mode):
                self.add_file(tar, arc, path, st)
            elif stat.S_ISLNK(mode):
                self.add_symlink(tar, arc, path, ancestors)
            elif stat.S_ISSOCK(mode):
                continue
            else:
                self.add_special(tar, arc, path, st)

    def checksum_everything(self):
        """The `special-files-read` bug: an audit log of every entry's sha256, computed before any
        check, which opens FIFOs for reading (open() blocks until a writer comes)."""
        for root, dirs, files in os.walk(self.model_dir):
            for n in sorted(files):
                p = os.path.join(root, n)
                if os.path.islink(p):
                    continue
                try:
                    with open(p, "rb") as f:
                        h = hashlib.sha256(f.read()).hexdigest()
                except OSError:
                    continue
                print(f"{h}  {os.path.relpath(p, self.model_dir)}", file=sys.stderr)

    # ---- the whole run ---------------------------------------------------------------------

    def pack(self):
        if self.bug == "timed-out":
            # the bug: wait for the training job's completion marker, which this job's
            # framework never writes (`_SUCCESS` is Spark's and Hadoop's convention)
            while not os.path.exists(os.path.join(self.model_dir, "_SUCCESS")):
                time.sleep(0.5)
        self.check_inputs()
        if self.bug == "special-files-read":
            self.checksum_everything()
        tmp = self.open_output()
        try:
            # unbuffered: what is written is on disk at once (as with `tar | gzip > out`), so
            # a walk that meets its own output packs a prefix of the archive
            with open(tmp, "wb", buffering=0) as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT,
                                      encoding="utf-8", errors="surrogateescape") as tar:
                        if self.prefix():
                            self.member(tar, "", self.model_dir, tarfile.DIRTYPE)
                        self.walk(tar, self.model_dir, "", [self.real_model])
                os.fsync(raw.fileno())
            self.finish_output(tmp)
        except BaseException:
            self.abort_output(tmp)
            raise


def main(bug=None, refuse_empty=False, argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("output")
    ap.add_argument("--target", default=os.environ.get("PACKLIB_TARGET", "sagemaker"),
                    choices=TARGETS)
    a = ap.parse_args(argv)
    p = Packer(a.model_dir, a.output, a.target, bug=bug, refuse_empty=refuse_empty)
    try:
        p.pack()
    except (Refuse, OSError) as e:
        if bug == "exit-zero-without-archive":
            # the bug: `except Exception: log.warning(...)` and carry on to exit 0
            print(f"warning: packaging skipped: {e}", file=sys.stderr)
            return 0
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
