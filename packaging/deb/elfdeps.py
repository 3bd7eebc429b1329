"""What the bundle needs from the system, and whether the .deb declares it.

    python3 packaging/deb/elfdeps.py versions BUNDLE        # "libc6 (>= 2.35), libstdc++6 (>= 12)"
    python3 packaging/deb/elfdeps.py check BUNDLE DEPENDS   # every outside library declared?

The bundle ships Python, NumPy and Qt; every other shared library comes from the system.
``check`` reads each ELF file's NEEDED entries (binutils' readelf), finds the ones the
bundle does not carry, resolves them with ``ldconfig -p`` and ``dpkg -S``, and fails
unless the owning package is named in DEPENDS (a Debian Depends field). It is what
proves the .deb's Depends line complete on the machine it runs on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

#: sonames provided by the C library package itself (libc6 is always declared)
LIBC_SONAMES = frozenset({
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
    "ld-linux-x86-64.so.2", "libresolv.so.2", "libanl.so.1",
})

#: GLIBCXX symbol version -> the GCC release (and so the Debian libstdc++6 version) that added it
GLIBCXX_TO_GCC = {
    21: "5", 22: "6", 23: "7", 24: "7", 25: "8", 26: "9", 27: "9", 28: "10", 29: "11", 30: "12",
    31: "13", 32: "13", 33: "14", 34: "15",
}


class ToolMissingError(RuntimeError):
    """A command this check relies on is not installed."""


def _run(*cmd: str) -> str:
    if shutil.which(cmd[0]) is None:
        raise ToolMissingError(f"{cmd[0]} is not installed (apt-get install binutils dpkg libc-bin)")
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def elf_files(bundle: Path) -> list[Path]:
    """Every regular ELF file in the bundle (executables, libraries, extension modules)."""
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed(path: Path) -> list[str]:
    """The DT_NEEDED sonames of one ELF file."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _run("readelf", "-d", str(path)))


def external_needs(bundle: Path) -> dict[str, list[str]]:
    """Soname -> the bundle files needing it, for every soname the bundle does not carry."""
    carried = {p.name for p in bundle.rglob("*")}
    needs: dict[str, list[str]] = {}
    for path in elf_files(bundle):
        for soname in needed(path):
            if soname not in carried:
                needs.setdefault(soname, []).append(path.relative_to(bundle).as_posix())
    return needs


def symbol_versions(bundle: Path) -> tuple[tuple[int, ...], int]:
    """The newest GLIBC version (as a tuple) and GLIBCXX 3.4.N (as N) any bundle file needs."""
    glibc: tuple[int, ...] = (2, 17)
    glibcxx = 0
    for path in elf_files(bundle):
        text = _run("objdump", "-T", str(path))
        for v in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", text):
            glibc = max(glibc, tuple(int(p) for p in v.split(".")))
        for n in re.findall(r"\bGLIBCXX_3\.4\.(\d+)\b", text):
            glibcxx = max(glibcxx, int(n))
    return glibc, glibcxx


def version_constraints(bundle: Path) -> str:
    """Depends entries for the C and C++ runtimes, from the symbol versions the bundle uses."""
    glibc, glibcxx = symbol_versions(bundle)
    parts = [f"libc6 (>= {'.'.join(map(str, glibc))})"]
    if glibcxx:
        gcc = GLIBCXX_TO_GCC.get(glibcxx)
        if gcc is None:
            raise ValueError(f"GLIBCXX_3.4.{glibcxx} is not in GLIBCXX_TO_GCC; add its GCC release")
        parts.append(f"libstdc++6 (>= {gcc})")
    return ", ".join(parts)


def declared_packages(depends: str) -> set[str]:
    """Every package name in a Depends field, alternatives included, versions dropped."""
    names = set()
    for alternative in re.split(r"[,|]", depends):
        name = alternative.strip().split(" ")[0].split("(")[0].strip()
        if name:
            names.add(name.split(":")[0])
    return names


def _library_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    for line in _run("ldconfig", "-p").splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "x86-64" in m.group(2):
            paths.setdefault(m.group(1), m.group(3))
    return paths


def _owner(path: str) -> str | None:
    for candidate in (path, str(Path(path).resolve())):
        out = _run("dpkg", "-S", candidate).strip()
        if out:
            return out.splitlines()[0].split(":")[0].strip()
    return None


def check(bundle: Path, depends: str) -> list[str]:
    """Problems, one line each: outside libraries missing here or not declared in DEPENDS."""
    declared = declared_packages(depends)
    paths = _library_paths()
    problems = []
    for soname, users in sorted(external_needs(bundle).items()):
        if soname in LIBC_SONAMES:
            continue
        where = f"(needed by {users[0]}" + (f" and {len(users) - 1} more)" if len(users) > 1 else ")")
        path = paths.get(soname)
        if path is None:
            problems.append(f"{soname} is not installed on this machine {where}")
            continue
        owner = _owner(path)
        if owner is None:
            problems.append(f"{soname} ({path}) belongs to no Debian package {where}")
        elif owner not in declared:
            problems.append(f"{soname} comes from {owner}, which Depends does not name {where}")
    return problems


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 2 and argv[0] == "versions":
            print(version_constraints(Path(argv[1])))
            return 0
        if len(argv) == 3 and argv[0] == "check":
            bundle = Path(argv[1])
            problems = check(bundle, argv[2])
            for line in problems:
                print(f"elfdeps: {line}", file=sys.stderr)
            if not problems:
                n = len([s for s in external_needs(bundle) if s not in LIBC_SONAMES])
                print(f"elfdeps: all {n} system libraries the bundle needs are installed and declared")
            return 1 if problems else 0
    except (ToolMissingError, ValueError) as exc:
        print(f"elfdeps: {exc}", file=sys.stderr)
        return 2
    print("usage:\n" + "\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
