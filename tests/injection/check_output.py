"""The injection oracle: every generated module compiles, calls nothing the hostile inputs only
named in strings (`__import__`), holds no NUL or raw control character, and binds no module-level
name over one of its own imports. Prints one line per finding; exit 1 when there is any."""
import ast
import pathlib
import sys

findings = []
for root in sys.argv[1:]:
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        data = path.read_bytes()
        where = repr(str(path))
        for byte in set(data):
            if byte < 0x20 and byte not in (0x09, 0x0A) or byte == 0x7F:
                findings.append(f"{where}: raw control byte {byte:#04x}")
        try:
            tree = ast.parse(data, filename=str(path))
        except SyntaxError as e:
            findings.append(f"{where}: does not compile: {e}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "__import__":
                    findings.append(f"{where}:{node.lineno}: injected call __import__")
        imported = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    imported.add((alias.asname or alias.name).split(".")[0])
        for node in tree.body:
            bound = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound = [node.name]
            elif isinstance(node, ast.Assign):
                bound = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in bound:
                if name in imported:
                    findings.append(f"{where}:{node.lineno}: `{name}` shadows its import")
for f in findings:
    print(f)
print(f"{len(findings)} findings")
sys.exit(1 if findings else 0)
