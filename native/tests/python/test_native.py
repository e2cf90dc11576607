"""The native library from Python through ctypes, against the real daemon
(scripts/native.sh runs it with DOCKHAND_NATIVE_LIB and the environment)."""

import json
import os
import threading
import time

import pytest

import dockhand_ctypes as dh

IMAGE = os.environ.get("DOCKHAND_TEST_IMAGE")


@pytest.fixture
def client():
    assert os.environ.get("DOCKHAND_TEST_ENV"), "source env.sh of scripts/test-env.sh"
    c = dh.Client(host="unix:///var/run/docker.sock")
    yield c
    c.close()


@pytest.fixture
def container(client):
    made = []

    def run(script):
        created = client.call("ContainerCreate", body={"Image": IMAGE, "Cmd": ["sh", "-c", script]})
        made.append(created["Id"])
        client.call_bytes("ContainerStart", {"id": created["Id"]})
        return created["Id"]

    yield run
    for cid in made:
        try:
            client.call_bytes("ContainerDelete", {"id": cid, "force": True})
        except dh.DockerError:
            pass


def test_operation_table():
    ops = dh.operations()
    assert len(ops) == 108
    ids = {o["id"] for o in ops}
    assert {"ContainerList", "ImageCreate", "ContainerLogs"} <= ids


def test_ping_and_version(client):
    assert client.call_bytes("SystemPing") == b"OK"
    assert "ApiVersion" in client.call("SystemVersion")


def test_missing_container_is_not_found(client):
    with pytest.raises(dh.DockerError) as e:
        client.call("ContainerInspect", {"id": "dockhand-native-py-missing"})
    assert e.value.kind == "not_found"
    assert e.value.status == 404
    assert e.value.info["operation"] == "ContainerInspect"


def test_refused_by_version_without_sending():
    # Nothing listens there: a request that got as far as sending would be a
    # connect error.
    c = dh.Client(host="unix:///nonexistent/dockhand.sock", api_version="1.25")
    with pytest.raises(dh.DockerError) as e:
        c.call("SystemPing")
    assert e.value.kind == "connect"
    newer = next(o for o in dh.operations()
                 if o["since"] != "1.25" and not any(p["required"] for p in o["params"]))
    with pytest.raises(dh.DockerError) as e:
        c.call(newer["id"])
    assert e.value.kind == "unsupported_by_version", e.value.info
    assert e.value.info["needs"] == newer["since"]
    with pytest.raises(dh.DockerError) as e:
        c.call("ContainerCreate", {"platform": "linux/amd64"}, {"Image": "x"})
    assert e.value.kind == "unsupported_by_version"
    assert e.value.info["needs"] == "1.41"
    c.close()


def test_bad_options_are_config_errors():
    with pytest.raises(dh.DockerError) as e:
        dh.Client(hots="unix:///x")
    assert e.value.kind == "config"


def test_container_logs_to_the_end_and_exit_code(client, container):
    cid = container("echo py-out; echo py-err >&2; exit 5")
    s = client.stream("ContainerLogs", {"id": cid, "follow": True, "stdout": True, "stderr": True})
    got = {"stdout": b"", "stderr": b""}
    try:
        while True:
            item = s.next(10_000)
            if item is None:
                break
            kind, data = item
            got[kind] += data
    finally:
        s.close()
    assert got == {"stdout": b"py-out\n", "stderr": b"py-err\n"}
    assert client.call("ContainerWait", {"id": cid})["StatusCode"] == 5


def test_exec_cat_with_stdin(client, container):
    cid = container("sleep 60")
    exec_id = client.call("ContainerExec", {"id": cid},
                          {"Cmd": ["cat"], "AttachStdin": True, "AttachStdout": True})["Id"]
    s = client.stream("ExecStart", {"id": exec_id}, {"Detach": False, "Tty": False})
    try:
        s.write(b"from python\n")
        s.close_write()
        out = b""
        while (item := s.next(10_000)) is not None:
            assert item[0] == "stdout"
            out += item[1]
    finally:
        s.close()
    assert out == b"from python\n"
    assert client.call("ExecInspect", {"id": exec_id})["ExitCode"] == 0


def test_pull_progress_from_the_test_registry(client):
    registry = os.environ["DOCKHAND_REGISTRY"]
    assert registry.startswith("127.0.0.1:")
    repo = f"{registry}/dockhand-native-py"
    client.call_bytes("ImageTag", {"name": IMAGE, "repo": repo, "tag": "p1"})
    push = client.stream("ImagePush", {"name": repo, "tag": "p1"})
    try:
        while push.next(60_000) is not None:
            pass
    finally:
        push.close()
    client.call_bytes("ImageDelete", {"name": f"{repo}:p1"})
    pull = client.stream("ImageCreate", {"fromImage": repo, "tag": "p1"})
    messages = []
    try:
        while (item := pull.next(60_000)) is not None:
            assert item[0] == "json"
            messages.append(json.loads(item[1]))
    finally:
        pull.close()
    assert any("status" in m for m in messages), messages
    assert client.call("ImageInspect", {"name": f"{repo}:p1"})["Id"]
    client.call_bytes("ImageDelete", {"name": f"{repo}:p1"})


def test_cancel_from_another_thread(client, container):
    cid = container("echo started; sleep 60")
    s = client.stream("ContainerLogs", {"id": cid, "follow": True, "stdout": True})
    try:
        assert s.next(10_000) == ("stdout", b"started\n")
        result = {}

        def reader():
            try:
                result["item"] = s.next(-1)
            except dh.DockerError as e:
                result["error"] = e

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.3)
        start = time.monotonic()
        s.cancel()
        t.join(10)
        assert not t.is_alive()
        assert time.monotonic() - start < 5
        assert result["error"].kind == "cancelled"
    finally:
        s.close()


def test_one_client_from_several_threads(client):
    errors = []

    def work():
        try:
            for _ in range(50):
                assert client.call_bytes("SystemPing") == b"OK"
                assert isinstance(client.call("ContainerList", {"all": True}), list)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_rss_flat_over_10000_calls(client):
    def batch(n):
        for i in range(n):
            if i % 2:
                assert client.call_bytes("SystemPing") == b"OK"
            else:
                with pytest.raises(dh.DockerError):
                    client.call("ContainerInspect", {"id": "dockhand-native-leak-missing"})

    batch(2000)  # warm-up: the runtime, the pool, allocator arenas
    before = _rss_kib()
    batch(10_000)
    grown = _rss_kib() - before
    print(f"RSS grew by {grown} KiB over 10,000 calls")
    # Not freeing the ~200-byte error buffers alone grows it by ~1 MB
    # (checked by hand with dh_buf_free replaced by a no-op); 0 is typical.
    assert grown < 512, f"RSS grew by {grown} KiB over 10,000 calls"


def test_rss_flat_over_2000_streams(client, container):
    cid = container("echo once")
    client.call("ContainerWait", {"id": cid})

    def batch(n):
        for _ in range(n):
            s = client.stream("ContainerLogs", {"id": cid, "stdout": True})
            try:
                assert s.next(10_000) == ("stdout", b"once\n")
            finally:
                s.close()

    batch(300)
    before = _rss_kib()
    batch(2000)
    grown = _rss_kib() - before
    assert grown < 1024, f"RSS grew by {grown} KiB over 2,000 streams"


def test_tty_resize(client, container):
    cid = container("sleep 60")
    exec_id = client.call("ContainerExec", {"id": cid},
                          {"Cmd": ["sh", "-c", "read go; stty size"], "AttachStdin": True,
                           "AttachStdout": True, "Tty": True})["Id"]
    s = client.stream("ExecStart", {"id": exec_id}, {"Detach": False, "Tty": True})
    try:
        s.resize(27, 88)
        s.write(b"go\n")
        out = b""
        while (item := s.next(10_000)) is not None:
            assert item[0] == "console"
            out += item[1]
    finally:
        s.close()
    assert b"27 88" in out, out


def test_panic_output_setting_is_kept():
    assert dh.set_panic_output(False) is True
    assert dh.set_panic_output(True) is False


def _tar(files):
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _build(client, context, params):
    s = client.stream("ImageBuild", params, context)
    messages = []
    try:
        while (item := s.next(120_000)) is not None:
            messages.append(json.loads(item[1]))
    finally:
        s.close()
    return messages


def test_build_pulls_a_private_base_image_with_config_json_credentials(client, tmp_path, monkeypatch):
    """ImageBuild through the generic call sends X-Registry-Config made from
    config.json (every registry's credentials), as the typed build does: the
    FROM image lives in the registry that needs a password."""
    import base64
    registry = os.environ["DOCKHAND_AUTH_REGISTRY"]
    assert registry.startswith("127.0.0.1:")
    user, password = os.environ["DOCKHAND_REGISTRY_USER"], os.environ["DOCKHAND_REGISTRY_PASSWORD"]
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    tag = f"b{os.getpid()}x{int(time.time() * 1000)}"
    base = f"{registry}/dockhand-native-py/base"
    built = f"dockhand-native-py-built:{tag}"
    client.call_bytes("ImageTag", {"name": IMAGE, "repo": base, "tag": tag})
    try:
        # Pushed with X-Registry-Auth from the same config.json.
        push = client.stream("ImagePush", {"name": base, "tag": tag})
        try:
            while push.next(60_000) is not None:
                pass
        finally:
            push.close()
        client.call_bytes("ImageDelete", {"name": f"{base}:{tag}"})
        context = _tar({"Dockerfile": f"FROM {base}:{tag}\nLABEL dockhand-native-py=build\n".encode()})
        # Without credentials (the host's own, empty X-Registry-Config) the
        # builder is refused by the registry...
        empty = base64.urlsafe_b64encode(b"{}").decode()
        with pytest.raises(dh.DockerError) as refused:
            _build(client, context, {"t": built, "X-Registry-Config": empty})
        assert "unauthorized" in refused.value.info["message"].lower() or \
            "no basic auth" in refused.value.info["message"].lower(), refused.value.info
        # ...and with the header the library made from config.json it pulls.
        messages = _build(client, context, {"t": built})
        assert any("stream" in m for m in messages), messages
        labels = client.call("ImageInspect", {"name": built})["Config"]["Labels"]
        assert labels.get("dockhand-native-py") == "build"
    finally:
        for ref in (built, f"{base}:{tag}"):
            try:
                client.call_bytes("ImageDelete", {"name": ref, "force": True})
            except dh.DockerError:
                pass


def test_events_and_stats_streams(client, container):
    label = f"dockhand-native-ev={os.getpid()}-{time.monotonic_ns()}"
    events = client.stream("SystemEvents", {"filters": {"type": ["container"], "label": [label]}})
    try:
        created = client.call("ContainerCreate",
                              body={"Image": IMAGE, "Cmd": ["true"], "Labels": {label.split("=")[0]: label.split("=")[1]}})
        try:
            kind, data = events.next(10_000)
            assert kind == "json"
            event = json.loads(data)
            assert event["Action"] == "create" and event["Actor"]["ID"] == created["Id"], event
        finally:
            client.call_bytes("ContainerDelete", {"id": created["Id"], "force": True})
        # The filter holds: the next event is the same container's removal.
        event = json.loads(events.next(10_000)[1])
        assert event["Actor"]["ID"] == created["Id"], event
    finally:
        events.cancel()
        events.close()

    cid = container("sleep 60")
    stats = client.stream("ContainerStats", {"id": cid, "stream": True})
    try:
        samples = [json.loads(stats.next(10_000)[1]) for _ in range(2)]
    finally:
        stats.close()
    assert all("cpu_stats" in s and "memory_stats" in s for s in samples), samples
    assert samples[0]["read"] != samples[1]["read"]


def test_explicit_credentials_as_an_object(client, tmp_path, monkeypatch):
    """X-Registry-Auth given as {"username", "password"} is encoded by the
    library; config.json (empty here) is not consulted then. A wrong password
    is the registry's refusal, and never appears in the error."""
    registry = os.environ["DOCKHAND_AUTH_REGISTRY"]
    assert registry.startswith("127.0.0.1:")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    user, password = os.environ["DOCKHAND_REGISTRY_USER"], os.environ["DOCKHAND_REGISTRY_PASSWORD"]
    repo = f"{registry}/dockhand-native-py/creds"
    tag = f"c{os.getpid()}x{time.monotonic_ns()}"
    client.call_bytes("ImageTag", {"name": IMAGE, "repo": repo, "tag": tag})

    def push(creds):
        s = client.stream("ImagePush", {"name": repo, "tag": tag, "X-Registry-Auth": creds})
        try:
            while s.next(60_000) is not None:
                pass
        finally:
            s.close()

    try:
        wrong = "wrong-" + password
        with pytest.raises(dh.DockerError) as refused:
            push({"username": user, "password": wrong})
        assert wrong not in json.dumps(refused.value.info)
        with pytest.raises(dh.DockerError) as bad:
            push({"username": user, "password": ["not", "a", "string", wrong]})
        assert bad.value.kind == "invalid_argument"
        assert wrong not in json.dumps(bad.value.info)
        push({"username": user, "password": password, "serveraddress": registry})
        pulled = f"{repo}:{tag}"
        client.call_bytes("ImageDelete", {"name": pulled})
        pull = client.stream("ImageCreate", {"fromImage": repo, "tag": tag,
                                             "X-Registry-Auth": {"username": user, "password": password}})
        try:
            while pull.next(60_000) is not None:
                pass
        finally:
            pull.close()
        assert client.call("ImageInspect", {"name": pulled})["Id"]
    finally:
        try:
            client.call_bytes("ImageDelete", {"name": f"{repo}:{tag}", "force": True})
        except dh.DockerError:
            pass
