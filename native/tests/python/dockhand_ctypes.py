"""A small ctypes binding of the native library, as a host would write one
(the tests below use it; so could a script). DOCKHAND_NATIVE_LIB names the
shared library to load."""

import ctypes
import json
import os

DH_OK, DH_ERROR, DH_END, DH_TIMEOUT, DH_BAD_POINTER = 0, 1, 2, 3, 4
ITEM_KINDS = {0: "json", 1: "stdout", 2: "stderr", 3: "stdin", 4: "console", 5: "bytes"}

_u8p = ctypes.POINTER(ctypes.c_uint8)
lib = ctypes.CDLL(os.environ["DOCKHAND_NATIVE_LIB"])
lib.dh_buf_free.argtypes = [_u8p, ctypes.c_size_t]
lib.dh_buf_free.restype = None
lib.dh_operations.argtypes = [ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_operations.restype = ctypes.c_int32
lib.dh_client_new.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p),
                              ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_client_new.restype = ctypes.c_int32
lib.dh_client_free.argtypes = [ctypes.c_void_p]
lib.dh_client_free.restype = None
lib.dh_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                        ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                        ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_call.restype = ctypes.c_int32
lib.dh_stream_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                               ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                               ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_u8p),
                               ctypes.POINTER(ctypes.c_size_t)]
lib.dh_stream_open.restype = ctypes.c_int32
lib.dh_stream_next.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.POINTER(ctypes.c_int32),
                               ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_stream_next.restype = ctypes.c_int32
lib.dh_stream_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_stream_write.restype = ctypes.c_int32
lib.dh_stream_close_write.argtypes = [ctypes.c_void_p, ctypes.POINTER(_u8p),
                                      ctypes.POINTER(ctypes.c_size_t)]
lib.dh_stream_close_write.restype = ctypes.c_int32
lib.dh_stream_resize.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
                                 ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)]
lib.dh_stream_resize.restype = ctypes.c_int32
lib.dh_set_panic_output.argtypes = [ctypes.c_int32]
lib.dh_set_panic_output.restype = ctypes.c_int32
lib.dh_stream_cancel.argtypes = [ctypes.c_void_p]
lib.dh_stream_cancel.restype = None
lib.dh_stream_free.argtypes = [ctypes.c_void_p]
lib.dh_stream_free.restype = None


def set_panic_output(enabled):
    """Whether a panic caught in the library is also printed to stderr; the previous setting."""
    return bool(lib.dh_set_panic_output(1 if enabled else 0))


class DockerError(Exception):
    """An error JSON from the library: .kind, .status, .info (the whole object)."""

    def __init__(self, info):
        super().__init__(info.get("message"))
        self.info = info
        self.kind = info.get("kind")
        self.status = info.get("status")


def _take(p, n):
    data = ctypes.string_at(p, n.value) if p else b""
    lib.dh_buf_free(p, n.value)
    return data


def operations():
    p, n = _u8p(), ctypes.c_size_t()
    assert lib.dh_operations(ctypes.byref(p), ctypes.byref(n)) == DH_OK
    return json.loads(_take(p, n))


class Client:
    def __init__(self, **options):
        text = json.dumps(options).encode()
        h, p, n = ctypes.c_void_p(), _u8p(), ctypes.c_size_t()
        rc = lib.dh_client_new(text, len(text), ctypes.byref(h), ctypes.byref(p), ctypes.byref(n))
        err = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(err))
        self.handle = h

    def close(self):
        if self.handle:
            lib.dh_client_free(self.handle)
            self.handle = None

    def call_bytes(self, op, params=None, body=None):
        op_b = op.encode()
        par = json.dumps(params or {}).encode()
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        p, n = _u8p(), ctypes.c_size_t()
        rc = lib.dh_call(self.handle, op_b, len(op_b), par, len(par), body,
                         len(body) if body is not None else 0, ctypes.byref(p), ctypes.byref(n))
        out = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(out))
        return out

    def call(self, op, params=None, body=None):
        out = self.call_bytes(op, params, body)
        return json.loads(out) if out else None

    def stream(self, op, params=None, body=None):
        op_b = op.encode()
        par = json.dumps(params or {}).encode()
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        h, p, n = ctypes.c_void_p(), _u8p(), ctypes.c_size_t()
        rc = lib.dh_stream_open(self.handle, op_b, len(op_b), par, len(par), body,
                                len(body) if body is not None else 0,
                                ctypes.byref(h), ctypes.byref(p), ctypes.byref(n))
        err = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(err))
        return Stream(h)


class Stream:
    def __init__(self, handle):
        self.handle = handle

    def next(self, timeout_ms=-1):
        """(kind, bytes), None at the end; raises TimeoutError or DockerError."""
        k, p, n = ctypes.c_int32(), _u8p(), ctypes.c_size_t()
        rc = lib.dh_stream_next(self.handle, timeout_ms, ctypes.byref(k), ctypes.byref(p), ctypes.byref(n))
        out = _take(p, n)
        if rc == DH_OK:
            return ITEM_KINDS[k.value], out
        if rc == DH_END:
            return None
        if rc == DH_TIMEOUT:
            raise TimeoutError()
        raise DockerError(json.loads(out))

    def write(self, data):
        p, n = _u8p(), ctypes.c_size_t()
        rc = lib.dh_stream_write(self.handle, data, len(data), ctypes.byref(p), ctypes.byref(n))
        err = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(err))

    def close_write(self):
        p, n = _u8p(), ctypes.c_size_t()
        rc = lib.dh_stream_close_write(self.handle, ctypes.byref(p), ctypes.byref(n))
        err = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(err))

    def resize(self, rows, cols):
        """Resizes the TTY of an attach or exec stream."""
        p, n = _u8p(), ctypes.c_size_t()
        rc = lib.dh_stream_resize(self.handle, rows, cols, ctypes.byref(p), ctypes.byref(n))
        err = _take(p, n)
        if rc != DH_OK:
            raise DockerError(json.loads(err))

    def cancel(self):
        lib.dh_stream_cancel(self.handle)

    def close(self):
        if self.handle:
            lib.dh_stream_free(self.handle)
            self.handle = None
