#ifndef IMAGEDROP_CCURL_H
#define IMAGEDROP_CCURL_H

#include <curl/curl.h>

// curl_easy_setopt / curl_easy_getinfo / curl_share_setopt are variadic, which Swift cannot call.
// One typed wrapper per argument *type*, not per option (as swift-corelibs-foundation does).

CURLcode imagedrop_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode imagedrop_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode imagedrop_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode imagedrop_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode imagedrop_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode imagedrop_easy_setopt_mime(CURL *handle, CURLoption option, curl_mime *value);
CURLcode imagedrop_easy_setopt_share(CURL *handle, CURLoption option, CURLSH *value);
CURLcode imagedrop_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value);
CURLcode imagedrop_easy_setopt_xferinfo_callback(CURL *handle, CURLoption option, curl_xferinfo_callback value);

CURLcode imagedrop_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode imagedrop_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode imagedrop_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode imagedrop_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);

CURLSHcode imagedrop_share_setopt_long(CURLSH *share, CURLSHoption option, long value);
CURLSHcode imagedrop_share_setopt_lock(CURLSH *share, curl_lock_function value);
CURLSHcode imagedrop_share_setopt_unlock(CURLSH *share, curl_unlock_function value);
CURLSHcode imagedrop_share_setopt_pointer_userdata(CURLSH *share, void *value);
CURLcode imagedrop_easy_setopt_seek_callback(CURL *handle, CURLoption option, curl_seek_callback value);
CURLcode imagedrop_easy_setopt_read_callback(CURL *handle, CURLoption option, curl_read_callback value);
CURLcode imagedrop_easy_setopt_prereq_callback(CURL *handle, CURLoption option, curl_prereq_callback value);

/// The libcurl line of `imagedrop --version` ("libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 ..."), from
/// curl_version_info, into `buffer` (always terminated). Not curl_version(): Debian's libcurl asks OpenLDAP for its
/// version there, and OpenLDAP's first call initializes it (reads ldap.conf, loads every Cyrus SASL plugin: eight
/// shared libraries) in a process that never speaks LDAP.
void imagedrop_curl_version_text(char *buffer, size_t size);

#endif
