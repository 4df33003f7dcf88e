/* linked_curl.h — the llf_curl table filled from a libcurl linked into the
 * test program (unit tests and fuzz targets call the logic without the shim). */
#ifndef LINKED_CURL_H
#define LINKED_CURL_H

#include "curlapi.h"

static void linked_curl(llf_curl_api *api)
{
    api->url = curl_url;
    api->url_cleanup = curl_url_cleanup;
    api->url_set = curl_url_set;
    api->url_get = (CURLUcode(*)(const CURLU *, CURLUPart, char **, unsigned int))curl_url_get;
    api->free = curl_free;
    api->getdate = curl_getdate;
    api->easy_strerror = curl_easy_strerror;
}

#endif
