#include "CCurl.h"
#include <stdio.h>

CURLcode imagedrop_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_mime(CURL *handle, CURLoption option, curl_mime *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_share(CURL *handle, CURLoption option, CURLSH *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_xferinfo_callback(CURL *handle, CURLoption option, curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode imagedrop_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
CURLcode imagedrop_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}
CURLcode imagedrop_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
CURLcode imagedrop_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLSHcode imagedrop_share_setopt_long(CURLSH *share, CURLSHoption option, long value) {
    return curl_share_setopt(share, option, value);
}
CURLSHcode imagedrop_share_setopt_lock(CURLSH *share, curl_lock_function value) {
    return curl_share_setopt(share, CURLSHOPT_LOCKFUNC, value);
}
CURLSHcode imagedrop_share_setopt_unlock(CURLSH *share, curl_unlock_function value) {
    return curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, value);
}
CURLSHcode imagedrop_share_setopt_pointer_userdata(CURLSH *share, void *value) {
    return curl_share_setopt(share, CURLSHOPT_USERDATA, value);
}
CURLcode imagedrop_easy_setopt_seek_callback(CURL *handle, CURLoption option, curl_seek_callback value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_read_callback(CURL *handle, CURLoption option, curl_read_callback value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode imagedrop_easy_setopt_prereq_callback(CURL *handle, CURLoption option, curl_prereq_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static void append_part(char *buffer, size_t size, size_t *used, const char *name, const char *version) {
    if (version == NULL || *version == '\0' || *used >= size) return;
    int written = snprintf(buffer + *used, size - *used, "%s%s%s", *used ? " " : "", name, version);
    if (written > 0) *used += (size_t)written < size - *used ? (size_t)written : size - *used - 1;
}

void imagedrop_curl_version_text(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = '\0';
    size_t used = 0;
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    append_part(buffer, size, &used, "libcurl/", info->version);
    append_part(buffer, size, &used, "", info->ssl_version);
    append_part(buffer, size, &used, "zlib/", info->libz_version);
    if (info->age >= CURLVERSION_FIFTH) append_part(buffer, size, &used, "brotli/", info->brotli_version);
    if (info->age >= CURLVERSION_EIGHTH) append_part(buffer, size, &used, "zstd/", info->zstd_version);
    if (info->age >= CURLVERSION_THIRD) append_part(buffer, size, &used, "libidn2/", info->libidn);
    if (info->age >= CURLVERSION_FOURTH) append_part(buffer, size, &used, "", info->libssh_version);
    if (info->age >= CURLVERSION_SIXTH) {
        append_part(buffer, size, &used, "nghttp2/", info->nghttp2_version);
        append_part(buffer, size, &used, "", info->quic_version);
    }
}
