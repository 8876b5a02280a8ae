"""A small stand-in for the Hub's HTTP API on 127.0.0.1: enough for huggingface_hub's create_repo and
upload_folder (every file answered as a regular, non-LFS upload). It records what it receives."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HubStub:
    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        self.repos: dict[str, dict] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.validated: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding") == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        data += self.rfile.read(size)
                        self.rfile.readline()
                if self.headers.get("Content-Encoding") == "gzip":
                    data = gzip.decompress(data)
                return data

            def _send(self, status: int, payload) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                stub.requests.append(("GET", self.path))
                if self.path.startswith("/api/whoami"):
                    return self._send(200, {"name": "tester", "type": "user", "auth": {"accessToken": {"role": "write"}}})
                return self._send(404, {"error": "not found"})

            def do_POST(self):
                stub.requests.append(("POST", self.path))
                body = self._body()
                parts = self.path.split("?")[0].strip("/").split("/")
                if self.path.startswith("/api/repos/create"):
                    info = json.loads(body or b"{}")
                    repo_id = f"{info.get('organization') or 'tester'}/{info['name']}" if "/" not in info.get("name", "") \
                        else info["name"]
                    stub.repos[repo_id] = info
                    return self._send(200, {"url": f"{stub.url}/{repo_id}", "name": repo_id, "id": repo_id})
                if self.path.startswith("/api/validate-yaml"):  # the model card's metadata
                    stub.validated.append(json.loads(body or b"{}"))
                    return self._send(200, {"errors": [], "warnings": []})
                if len(parts) >= 6 and parts[0] == "api" and parts[4] == "preupload":
                    files = json.loads(body)["files"]
                    return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                      for f in files]})
                if len(parts) >= 6 and parts[0] == "api" and parts[4] == "commit":
                    repo_id = f"{parts[2]}/{parts[3]}"
                    received = stub.files.setdefault(repo_id, {})
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item.get("key") == "file":
                            value = item["value"]
                            received[value["path"]] = base64.b64decode(value["content"])
                    return self._send(200, {"success": True, "commitOid": "0" * 40,
                                            "commitUrl": f"{stub.url}/{repo_id}/commit/{'0' * 40}"})
                return self._send(404, {"error": f"unknown endpoint {self.path}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
