/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include "runner-s3-private.h"

/*
 * runner_s3_sigv4_sign() against published vectors: AWS's Signature Version
 * 4 test suite (the aws-sig-v4-test-suite, as kept in awslabs/aws-c-auth's
 * tests/aws-signing-test-suite/v4) and the worked examples of S3's "Signature
 * Calculations for the Authorization Header" page. Each vector gives the
 * canonical request, the string to sign and the signature, so a mismatch
 * shows which step went wrong.
 */

typedef struct
{
  const char *access_key;
  const char *secret_key;
  const char *amz_date;
  const char *region;
  const char *service;
} Credentials;

/* The test suite's example credentials and instant. */
static const Credentials suite = {
  "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  "20150830T123600Z", "us-east-1", "service",
};

/* The S3 documentation's. */
static const Credentials s3_docs = {
  "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "20130524T000000Z", "us-east-1", "s3",
};

typedef struct
{
  const char        *name;
  const Credentials *credentials;
  const char        *method;
  const char        *path;        /* as in the request line, not encoded */
  const char        *query[5];    /* name, value, ...: not encoded */
  const char        *headers[6];  /* as on the wire; x-amz-date is added */
  const char        *body;        /* NULL: empty */
  const char        *canonical_request;
  const char        *string_to_sign;
  const char        *signature;
} Vector;

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const Vector vectors[] = {
  {
    "get-vanilla", &suite, "GET", "/", { NULL }, { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/\n\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  },
  {
    "get-vanilla-query-order-key-case", &suite, "GET", "/",
    { "Param2", "value2", "Param1", "value1", NULL },
    { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/\nParam1=value1&Param2=value2\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
  },
  {
    "get-vanilla-empty-query-key", &suite, "GET", "/", { "Param1", "value1", NULL },
    { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/\nParam1=value1\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
    "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
  },
  {
    "get-vanilla-query-unreserved", &suite, "GET", "/",
    { "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", NULL },
    { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/\n"
    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
    "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
  },
  {
    "get-vanilla-utf8-query", &suite, "GET", "/", { "\xe1\x88\xb4", "bar", NULL },
    { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/\n%E1%88%B4=bar\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
    "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
  },
  {
    "get-header-value-trim", &suite, "GET", "/", { NULL },
    { "Host:example.amazonaws.com", "My-Header1: value1", "My-Header2: \"a   b   c\"", NULL }, NULL,
    "GET\n/\n\n"
    "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
    "x-amz-date:20150830T123600Z\n\n"
    "host;my-header1;my-header2;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
  },
  {
    "get-header-key-duplicate", &suite, "GET", "/", { NULL },
    { "Host:example.amazonaws.com", "My-Header1:value2", "My-Header1:value2",
      "My-Header1:value1", NULL }, NULL,
    "GET\n/\n\n"
    "host:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
    "x-amz-date:20150830T123600Z\n\n"
    "host;my-header1;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
    "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
  },
  {
    "get-utf8", &suite, "GET", "/\xe1\x88\xb4", { NULL }, { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/%E1%88%B4\n\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
  },
  {
    "get-space", &suite, "GET", "/example space/", { NULL }, { "Host:example.amazonaws.com", NULL }, NULL,
    "GET\n/example%20space/\n\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    "host;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
    "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
  },
  {
    "get-vanilla-with-session-token", &suite, "GET", "/", { NULL },
    { "Host:example.amazonaws.com",
      "X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", NULL },
    NULL,
    "GET\n/\n\n"
    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
    "x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\n"
    "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
    "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
  },
  {
    "post-x-www-form-urlencoded", &suite, "POST", "/", { NULL },
    { "Content-Type:application/x-www-form-urlencoded", "Host:example.amazonaws.com",
      "Content-Length:13",
      "X-Amz-Content-Sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e", NULL },
    "Param1=value1",
    "POST\n/\n\n"
    "content-length:13\ncontent-type:application/x-www-form-urlencoded\n"
    "host:example.amazonaws.com\n"
    "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
    "x-amz-date:20150830T123600Z\n\n"
    "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
    "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
  },
  {
    "s3-get-object", &s3_docs, "GET", "/test.txt", { NULL },
    { "Host: examplebucket.s3.amazonaws.com", "Range: bytes=0-9",
      "x-amz-content-sha256:" EMPTY_SHA256, NULL }, NULL,
    "GET\n/test.txt\n\n"
    "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
    "x-amz-content-sha256:" EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
    "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  },
  {
    "s3-put-object", &s3_docs, "PUT", "/test$file.text", { NULL },
    { "Host: examplebucket.s3.amazonaws.com", "Date: Fri, 24 May 2013 00:00:00 GMT",
      "x-amz-storage-class: REDUCED_REDUNDANCY",
      "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", NULL },
    "Welcome to Amazon S3.",
    "PUT\n/test%24file.text\n\n"
    "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
    "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
    "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
    "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
  },
  {
    "s3-get-bucket-lifecycle", &s3_docs, "GET", "/", { "lifecycle", "", NULL },
    { "Host: examplebucket.s3.amazonaws.com", "x-amz-content-sha256:" EMPTY_SHA256, NULL }, NULL,
    "GET\n/\nlifecycle=\n"
    "host:examplebucket.s3.amazonaws.com\n"
    "x-amz-content-sha256:" EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
    "host;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
    "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
  },
  {
    "s3-list-objects", &s3_docs, "GET", "/", { "max-keys", "2", "prefix", "J", NULL },
    { "Host: examplebucket.s3.amazonaws.com", "x-amz-content-sha256:" EMPTY_SHA256, NULL }, NULL,
    "GET\n/\nmax-keys=2&prefix=J\n"
    "host:examplebucket.s3.amazonaws.com\n"
    "x-amz-content-sha256:" EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
    "host;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
    "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
  },
};

/* Signs @vector as Runner's request code does: the path and query encoded
 * with runner_s3_uri_encode(), x-amz-date added to the headers. */
static void
sign_vector (const Vector      *vector,
             RunnerS3Signature *signature)
{
  const Credentials *c = vector->credentials;
  g_autofree char *path = runner_s3_uri_encode (vector->path, TRUE);
  g_autofree char *payload = NULL;
  g_autoptr(GPtrArray) query = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  RunnerS3SigV4Request request = { 0 };

  for (guint i = 0; vector->query[i] != NULL; i += 2)
    {
      g_autofree char *name = runner_s3_uri_encode (vector->query[i], FALSE);
      g_autofree char *value = runner_s3_uri_encode (vector->query[i + 1], FALSE);

      g_ptr_array_add (query, g_strconcat (name, "=", value, NULL));
    }
  g_ptr_array_add (query, NULL);
  for (guint i = 0; vector->headers[i] != NULL; i++)
    g_ptr_array_add (headers, g_strdup (vector->headers[i]));
  g_ptr_array_add (headers, g_strconcat ("X-Amz-Date:", c->amz_date, NULL));
  g_ptr_array_add (headers, NULL);
  payload = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                           vector->body != NULL ? vector->body : "", -1);

  request.method = vector->method;
  request.path = path;
  request.query = (const char * const *) query->pdata;
  request.headers = (const char * const *) headers->pdata;
  request.payload_hash = payload;
  request.amz_date = c->amz_date;
  request.region = c->region;
  request.service = c->service;
  request.access_key = c->access_key;
  request.secret_key = c->secret_key;
  runner_s3_sigv4_sign (&request, signature);
}

static void
test_vector (gconstpointer data)
{
  const Vector *vector = data;
  const Credentials *c = vector->credentials;
  RunnerS3Signature signature;
  g_autofree char *date = g_strndup (c->amz_date, 8);
  g_autofree char *signed_headers = NULL;
  g_autofree char *authorization = NULL;
  const char *last_line;

  sign_vector (vector, &signature);
  g_assert_cmpstr (signature.canonical_request, ==, vector->canonical_request);
  g_assert_cmpstr (signature.string_to_sign, ==, vector->string_to_sign);
  g_assert_cmpstr (signature.signature, ==, vector->signature);

  /* the signed headers are the second last line of the canonical request */
  last_line = strrchr (vector->canonical_request, '\n');
  while (last_line > vector->canonical_request && last_line[-1] != '\n')
    last_line--;
  signed_headers = g_strndup (last_line, strcspn (last_line, "\n"));
  g_assert_cmpstr (signature.signed_headers, ==, signed_headers);
  authorization = g_strdup_printf ("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                                   "SignedHeaders=%s, Signature=%s",
                                   c->access_key, date, c->region, c->service,
                                   signed_headers, vector->signature);
  g_assert_cmpstr (signature.authorization, ==, authorization);
  /* one header to send per signed name */
  {
    g_auto(GStrv) names = g_strsplit (signed_headers, ";", -1);

    g_assert_cmpuint (signature.headers->len, ==, g_strv_length (names));
  }
  runner_s3_signature_clear (&signature);
}

/* The whole Authorization header of get-vanilla, as the suite writes it. */
static void
test_authorization (void)
{
  RunnerS3Signature signature;

  sign_vector (&vectors[0], &signature);
  g_assert_cmpstr (signature.authorization, ==,
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                   "SignedHeaders=host;x-amz-date, "
                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  /* what goes on the wire: the canonical headers, in order */
  g_assert_cmpuint (signature.headers->len, ==, 2);
  g_assert_cmpstr (signature.headers->pdata[0], ==, "host:example.amazonaws.com");
  g_assert_cmpstr (signature.headers->pdata[1], ==, "x-amz-date:20150830T123600Z");
  runner_s3_signature_clear (&signature);
}

/* The payload hashes the S3 examples give are those of their bodies. */
static void
test_payload_hash (void)
{
  g_autofree char *put = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "Welcome to Amazon S3.", -1);
  g_autofree char *form = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "Param1=value1", -1);

  g_assert_cmpstr (put, ==, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  g_assert_cmpstr (form, ==, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
}

/* The canonical query sorts by name, then by value, byte-wise. */
static void
test_canonical_query (void)
{
  const char *pairs[] = { "b=2", "a=2", "A=9", "a=1", "ab=0", NULL };
  g_autofree char *query = runner_s3_sigv4_canonical_query (pairs);
  g_autofree char *none = runner_s3_sigv4_canonical_query (NULL);

  g_assert_cmpstr (query, ==, "A=9&a=1&a=2&ab=0&b=2");
  g_assert_cmpstr (none, ==, "");
}

static void
test_uri_encode (void)
{
  g_autofree char *key = runner_s3_uri_encode ("dir/a b+c~é.txt", TRUE);
  g_autofree char *value = runner_s3_uri_encode ("dir/a b", FALSE);

  g_assert_cmpstr (key, ==, "dir/a%20b%2Bc~%C3%A9.txt");
  g_assert_cmpstr (value, ==, "dir%2Fa%20b");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *path = g_strconcat ("/runner/sigv4/", vectors[i].name, NULL);

      g_test_add_data_func (path, &vectors[i], test_vector);
    }
  g_test_add_func ("/runner/sigv4/authorization", test_authorization);
  g_test_add_func ("/runner/sigv4/payload-hash", test_payload_hash);
  g_test_add_func ("/runner/sigv4/canonical-query", test_canonical_query);
  g_test_add_func ("/runner/sigv4/uri-encode", test_uri_encode);

  return g_test_run ();
}
