"""A reproducible tar.gz writer with one hook per thing a packager can get wrong, shared by the
deliberately non-reproducible packagers next to it: each overrides exactly one hook, so the
strict rerun's bisection must name exactly one variation.

The correct behaviour of each hook: names sorted, modes from the files, owners 0, mtime 0, a
gzip header with mtime 0 and no file name, one gzip member."""
import gzip
import io
import os
import stat
import sys
import tarfile


def sorted_names(names):
    return sorted(names)


def file_mode(path, st):
    return stat.S_IMODE(st.st_mode)


def member_mtime(st):
    return 0


def compress(data, out):
    """One gzip member, mtime 0, no file name."""
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
            g.write(data)


def pack(model_dir, output, order=sorted_names, mode=file_mode, mtime=member_mtime,
         gzip_mtime=0, compressor=compress):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:

        def walk(rel):
            full = os.path.join(model_dir, rel) if rel else model_dir
            for name in order(os.listdir(full)):
                r = os.path.join(rel, name) if rel else name
                p = os.path.join(model_dir, r)
                st = os.lstat(p)
                ti = t.gettarinfo(p, arcname=r)
                if ti is None:  # a socket: tar cannot hold one
                    continue
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                ti.mtime = mtime(st)
                if not ti.issym():
                    ti.mode = mode(p, st)
                if ti.isreg():
                    with open(p, "rb") as f:
                        t.addfile(ti, f)
                else:
                    t.addfile(ti)
                if ti.isdir():
                    walk(r)

        walk("")
    tmp = output + ".partial"
    if compressor is compress and gzip_mtime:
        with open(tmp, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=gzip_mtime) as g:
                g.write(buf.getvalue())
    else:
        compressor(buf.getvalue(), tmp)
    os.replace(tmp, output)


def main(**hooks):
    model_dir, output = sys.argv[1], sys.argv[2]
    pack(model_dir, output, **hooks)


if __name__ == "__main__":
    main()
