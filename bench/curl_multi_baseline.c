/* The ceiling of the library twiliocore builds on: a bare libcurl multi loop that keeps
 * `concurrency` POSTs to the fake Twilio Messages endpoint in flight until `n` are done, the way
 * curl's docs/examples/10-at-a-time.c does it (one easy handle per slot, reused, so the multi
 * handle's connection cache keeps connections alive; HTTP/2 multiplexing when offered).
 *
 * It sends the same bytes as twiliocore's bulk fan-out: the same headers (Accept, the form
 * Content-Type that libcurl adds itself to a CURLOPT_POSTFIELDS body, as twiliocore leaves it
 * to libcurl, the same User-Agent line, and HTTP Basic auth as a header line of the handle,
 * encoded once, as twiliocore does it: given as CURLOPT_USERPWD, libcurl would print and
 * encode it again on every transfer) and the same form body ("To=%2B1415...&From=...&Body=..."
 * with FROM and BODY given already form-encoded), which the runner checks by capturing one
 * request of each.
 * It sets libcurl up as twiliocore's engine does where that changes libcurl's work: the URL
 * also given parsed (CURLOPT_CURLU; as text alone, libcurl parses it and prints it back on
 * every transfer), and the same receive and upload buffer sizes.
 *
 * usage: curl_multi_baseline URL CA_FILE N CONCURRENCY ACCOUNT_SID AUTH_TOKEN FROM_ENCODED
 *                            BODY_ENCODED USER_AGENT
 * prints one JSON line: {"n":..,"ok":..,"wall":..,"cpu":..,"connects":..}
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct Slot {
  CURL *easy;
  char body[1024];
  long status;
};

/* Standard base64 of `in` (n bytes) into `out` (at least 4 * ((n + 2) / 3) + 1 bytes). */
static void Base64(const unsigned char *in, size_t n, char *out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned long v = (unsigned long)in[i] << 16;
    if (i + 1 < n) v |= (unsigned long)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  out[o] = '\0';
}

static size_t Sink(char *ptr, size_t size, size_t nmemb, void *userdata) {
  (void)ptr;
  (void)userdata;
  return size * nmemb;
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double CpuSeconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Peak RSS (VmHWM) in KiB: rusage's ru_maxrss of a child would count the forked parent. */
static long VmHwmKb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  if (f == NULL) return 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
  }
  fclose(f);
  return kb;
}

static void Start(CURLM *multi, struct Slot *slot, long index, const char *from,
                  const char *escaped_body) {
  char to[32];
  snprintf(to, sizeof to, "%%2B1415%07ld", 2000000 + index);
  snprintf(slot->body, sizeof slot->body, "To=%s&From=%s&Body=%s", to, from, escaped_body);
  curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, slot->body);
  curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(slot->body));
  curl_multi_add_handle(multi, slot->easy);
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: %s URL CA N CONCURRENCY SID TOKEN FROM_ENC BODY_ENC USER_AGENT\n",
            argv[0]);
    return 2;
  }
  const char *url = argv[1];
  const char *ca = argv[2];
  long n = atol(argv[3]);
  long concurrency = atol(argv[4]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *from = argv[7];
  const char *body = argv[8];
  char user_agent[512];
  snprintf(user_agent, sizeof user_agent, "User-Agent: %s", argv[9]);
  char userpwd[256];
  snprintf(userpwd, sizeof userpwd, "%s:%s", argv[5], argv[6]);
  char authorization[400] = "Authorization: Basic ";
  Base64((const unsigned char *)userpwd, strlen(userpwd), authorization + strlen(authorization));
  struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
  headers = curl_slist_append(headers, user_agent);
  headers = curl_slist_append(headers, authorization);

  CURLU *parsed_url = curl_url();
  if (curl_url_set(parsed_url, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    fprintf(stderr, "bad URL: %s\n", url);
    return 2;
  }

  /* as the engine: one TLS session cache for all handles (new connections resume) */
  CURLSH *share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  CURLM *multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  if (concurrency > n) concurrency = n;
  struct Slot *slots = calloc((size_t)concurrency, sizeof *slots);
  for (long i = 0; i < concurrency; ++i) {
    CURL *e = curl_easy_init();
    slots[i].easy = e;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CURLU, parsed_url);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(e, CURLOPT_CAINFO, ca);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* as the engine: one CA store for all connections */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Sink);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
    curl_easy_setopt(e, CURLOPT_SHARE, share);
  }

  double cpu0 = CpuSeconds();
  double t0 = Now();
  long started = 0, done = 0, ok = 0, connects = 0;
  for (; started < concurrency; ++started) Start(multi, &slots[started], started, from, body);
  int running = 1;
  while (done < n) {
    curl_multi_perform(multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      struct Slot *slot;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
      long status = 0, conn = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &conn);
      connects += conn;
      if (msg->data.result == CURLE_OK && status == 201) ++ok;
      ++done;
      curl_multi_remove_handle(multi, msg->easy_handle);
      if (started < n) Start(multi, slot, started++, from, body);
    }
    if (done < n) curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  double wall = Now() - t0;
  double cpu = CpuSeconds() - cpu0;
  printf("{\"n\": %ld, \"ok\": %ld, \"wall\": %.6f, \"cpu\": %.6f, \"connects\": %ld, "
         "\"vm_hwm_kb\": %ld}\n",
         n, ok, wall, cpu, connects, VmHwmKb());

  for (long i = 0; i < concurrency; ++i) curl_easy_cleanup(slots[i].easy);
  free(slots);
  curl_multi_cleanup(multi);
  curl_share_cleanup(share);
  curl_slist_free_all(headers);
  curl_url_cleanup(parsed_url);
  curl_global_cleanup();
  return ok == n ? 0 : 1;
}
