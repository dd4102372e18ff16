// Reading a Unix stream socket with recvmsg(2), so that descriptors passed with SCM_RIGHTS arrive
// with the bytes they were sent with. Node's sockets read with read(2), and the kernel closes any
// descriptor such a read meets; clamd's FILDES command needs them.
//
// One reader per connection. It polls its own duplicate of the socket on Node's event loop (the
// socket itself stays registered with Node, which writes the replies), reads once per wake-up, and
// hands each chunk to JavaScript with the descriptors that came with it. The kernel ends a read
// after a message that carries descriptors, so they belong to the chunk's last byte.
//
// JavaScript API:
//   start(fd, onData(bytes: Buffer | null, fds: number[], error: string | null)) -> handle
//     bytes === null and error === null: the peer closed its side. After an error or the end,
//     the reader has stopped polling (stop() must still be called to release it).
//   stop(handle): stops polling and closes the duplicate; the caller owns the descriptors it got.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/** Bytes read per wake-up: as much as Node reads per read(2). */
#define CHUNK 65536
/** Descriptors accepted with one message; more are a protocol error. */
#define MAX_FDS 16

typedef struct reader {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  /** Inside onData: a stop() then waits until it returns. */
  int delivering;
  int stop_pending;
} reader_t;

/** What JavaScript holds: the reader, until stop() hands it to libuv to close. */
typedef struct {
  reader_t *reader;
} box_t;

static unsigned char chunk[CHUNK];

#define CHECK(call)                                                                               \
  do {                                                                                            \
    if ((call) != napi_ok) return NULL;                                                           \
  } while (0)

static void closed(uv_handle_t *handle) {
  reader_t *r = (reader_t *)handle->data;
  close(r->fd);
  free(r);
}

/** Stops polling and closes the duplicate; `from_js`: also drops the callback (not from a finalizer). */
static void release(reader_t *r, int from_js) {
  if (from_js) {
    napi_delete_reference(r->env, r->callback);
    napi_async_destroy(r->env, r->async);
  }
  uv_close((uv_handle_t *)&r->poll, closed); // stops the polling too
}

/** Calls onData(bytes, fds, error) with n bytes of `chunk` (n < 0: none). */
static void deliver(reader_t *r, ssize_t n, const int *fds, size_t nfds, const char *error) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[3], cb, recv, result;
  int ok = napi_get_reference_value(env, r->callback, &cb) == napi_ok && napi_get_global(env, &recv) == napi_ok;
  if (ok) ok = n >= 0 ? napi_create_buffer_copy(env, (size_t)n, chunk, NULL, &argv[0]) == napi_ok
                      : napi_get_null(env, &argv[0]) == napi_ok;
  if (ok) ok = napi_create_array_with_length(env, nfds, &argv[1]) == napi_ok;
  for (size_t i = 0; ok && i < nfds; i++) {
    napi_value v;
    ok = napi_create_int32(env, fds[i], &v) == napi_ok && napi_set_element(env, argv[1], (uint32_t)i, v) == napi_ok;
  }
  if (ok) ok = error != NULL ? napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &argv[2]) == napi_ok
                             : napi_get_null(env, &argv[2]) == napi_ok;
  // Descriptors JavaScript will never see are closed here (only when memory runs out).
  for (size_t i = 0; !ok && i < nfds; i++) close(fds[i]);
  r->delivering = 1;
  napi_status called = ok ? napi_make_callback(env, r->async, recv, cb, 3, argv, &result) : napi_ok;
  r->delivering = 0;
  if (called != napi_ok) {
    // An exception from the callback is the program's, as from any other event.
    bool pending = false;
    napi_value e;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &e) == napi_ok)
      napi_fatal_exception(env, e);
  }
  napi_close_handle_scope(env, scope);
  if (r->stop_pending) release(r, 1);
}

static void finish(reader_t *r, const char *error) {
  uv_poll_stop(&r->poll);
  deliver(r, -1, NULL, 0, error);
}

/** One recvmsg(2): delivers what it read; true when the socket may hold more and the reader goes on. */
static int read_once(reader_t *r) {
  union {
    struct cmsghdr align;
    unsigned char bytes[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } control;
  struct iovec iov = {.iov_base = chunk, .iov_len = CHUNK};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t n = recvmsg(r->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) finish(r, strerror(errno));
    return 0;
  }
  int fds[MAX_FDS];
  size_t nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (nfds < MAX_FDS) fds[nfds++] = fd;
      else close(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    // The kernel closed the descriptors that did not fit; the ones that did are refused too.
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    finish(r, "too many file descriptors in one message");
    return 0;
  }
  if (n == 0) {
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    finish(r, NULL);
    return 0;
  }
  deliver(r, n, fds, nfds, NULL);
  // A short read emptied the socket (or ended at a message with descriptors): wait for the next wake-up.
  return n == CHUNK && uv_is_active((uv_handle_t *)&r->poll) && !r->stop_pending;
}

static void readable(uv_poll_t *handle, int status, int events) {
  reader_t *r = (reader_t *)handle->data;
  (void)events;
  if (status < 0) {
    finish(r, uv_strerror(status));
    return;
  }
  // Up to 32 reads per wake-up, as libuv reads a stream, so a fast sender costs fewer loop turns.
  for (int i = 0; i < 32 && read_once(r); i++) {
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  box_t *box = (box_t *)data;
  // A handle dropped without stop(): the connection is closed all the same; the callback's
  // reference, which Node-API does not let a finalizer delete, is left.
  if (box->reader != NULL) release(box->reader, 0);
  free(box);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype type;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "start(fd, onData): a descriptor and a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  reader_t *r = calloc(1, sizeof *r);
  box_t *box = calloc(1, sizeof *box);
  if (r == NULL || box == NULL) {
    free(r);
    free(box);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->env = env;
  r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  int failed = r->fd < 0 ? -errno : uv_poll_init(loop, &r->poll, r->fd);
  if (failed != 0) {
    if (r->fd >= 0) close(r->fd);
    free(r);
    free(box);
    napi_throw_error(env, NULL, uv_strerror(failed));
    return NULL;
  }
  r->poll.data = r;
  napi_value name, handle;
  if (napi_create_reference(env, argv[1], 1, &r->callback) != napi_ok ||
      napi_create_string_utf8(env, "vigil:fdpass", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &r->async) != napi_ok) {
    uv_close((uv_handle_t *)&r->poll, closed);
    free(box);
    return NULL;
  }
  box->reader = r;
  if (napi_create_external(env, box, finalize, NULL, &handle) != napi_ok) {
    release(r, 1);
    free(box);
    return NULL;
  }
  uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, readable);
  return handle;
}

static napi_value stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  box_t *box;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], (void **)&box) != napi_ok || box == NULL)
    return NULL;
  reader_t *r = box->reader;
  box->reader = NULL;
  if (r == NULL) return NULL;
  // Called from onData: released when it returns, as deliver() still uses the reader.
  if (r->delivering) r->stop_pending = 1;
  else release(r, 1);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}
