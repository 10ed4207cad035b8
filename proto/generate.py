"""Regenerate the committed Python code for the protos under proto/.

The dapr wheel ships common_pb2.py but no .proto files, so protoc gets the
SDK's compiled descriptors through --descriptor_set_in; the generated code then
imports the SDK's own dapr.proto.common.v1.common_pb2.

Usage: python proto/generate.py [OUTPUT_ROOT]   (default: component/)
"""

from __future__ import annotations

import pathlib
import re
import sys
import tempfile

from dapr.proto.common.v1 import common_pb2
from google.protobuf import any_pb2, descriptor_pb2, duration_pb2, timestamp_pb2
from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
MODULE_ROOT = "daprjobs.proto"
SDK_IMPORT = r"\bfrom dapr\.proto\.scheduler\.v1 import"
# (proto file relative to proto/, directory of the generated module relative to the output root)
SOURCES = [
    ("dapr/proto/scheduler/v1/scheduler.proto", "daprjobs/proto/scheduler/v1"),
    ("daprjobs/proto/stored/v1/stored.proto", "daprjobs/proto/stored/v1"),
]


def _descriptor_set(path: pathlib.Path) -> None:
    files = descriptor_pb2.FileDescriptorSet()
    for module in (any_pb2, duration_pb2, timestamp_pb2, common_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        files.file.append(proto)
    path.write_bytes(files.SerializeToString())


def generate(out_root: pathlib.Path) -> list[pathlib.Path]:
    written: list[pathlib.Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        deps = tmpdir / "deps.pb"
        _descriptor_set(deps)
        gen = tmpdir / "gen"
        gen.mkdir()
        for src, _ in SOURCES:
            rc = protoc.main(
                [
                    "protoc",
                    f"--proto_path={HERE}",
                    f"--descriptor_set_in={deps}",
                    f"--python_out={gen}",
                    f"--pyi_out={gen}",
                    f"--grpc_python_out={gen}",
                    src,
                ]
            )
            if rc != 0:
                raise SystemExit(f"protoc failed for {src}")
        for src, dest in SOURCES:
            src_dir = gen / pathlib.Path(src).parent
            stem = pathlib.Path(src).stem
            target = out_root / dest
            target.mkdir(parents=True, exist_ok=True)
            for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
                text = (src_dir / f"{stem}{suffix}").read_text()
                # The scheduler API lives in dapr.proto.scheduler.v1 on the wire but in
                # daprjobs.proto.scheduler.v1 as a module, beside (not inside) the SDK.
                text = re.sub(SDK_IMPORT, f"from {MODULE_ROOT}.scheduler.v1 import", text)
                out = target / f"{stem}{suffix}"
                out.write_text(text)
                written.append(out)
            for pkg in _packages(out_root, dest):
                init = pkg / "__init__.py"
                if not init.exists():
                    init.write_text("")
                written.append(init)
    return written


def _packages(out_root: pathlib.Path, dest: str) -> list[pathlib.Path]:
    parts = pathlib.Path(dest).parts
    return [out_root.joinpath(*parts[: i + 1]) for i in range(1, len(parts))]


if __name__ == "__main__":
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "component"
    for path in generate(root):
        print(path)
