/*
 * SendGrid's Signed Event Webhook: ECDSA over NIST P-256 with SHA-256 of the
 * timestamp header's bytes followed by the raw body's bytes.  The public key
 * is base64 DER SubjectPublicKeyInfo (as SendGrid's settings show it) or the
 * same as PEM (as openssl writes it), the signature base64 DER
 * ECDSA-Sig-Value.  OpenSSL objects are malloc'd: every path frees them
 * before any ereport can longjmp past.  A malformed key is an error; a
 * malformed signature or timestamp only fails to match.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "fmgr.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "quote.h"
#include "signature.h"

/* How old (or how far ahead) a signed webhook's timestamp may be, in seconds. */
static int	signature_tolerance_seconds = 300;

/* Defines mailstatus.signature_tolerance: superuser-only, so a webhook role cannot widen it. */
void
signature_define_settings(void)
{
	DefineCustomIntVariable("mailstatus.signature_tolerance",
							"How far a signed webhook's timestamp may be from the server's clock.",
							"ingest_sendgrid_webhook refuses older (or later) bodies, so a captured POST cannot be replayed.",
							&signature_tolerance_seconds,
							300,
							1,
							7 * 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Decodes standard base64, white space ignored, into a palloc'd buffer; NULL if it is not base64. */
static unsigned char *
base64_decode(const char *encoded, int *decoded_len)
{
	int			len = strlen(encoded);
	char	   *compact = palloc(len + 1);
	int			compact_len = 0;
	unsigned char *decoded;

	for (int i = 0; i < len; i++)
	{
		if (!scanner_isspace(encoded[i]))
			compact[compact_len++] = encoded[i];
	}
	decoded = palloc(pg_b64_dec_len(compact_len) + 1);
	*decoded_len = pg_b64_decode(compact, compact_len, (void *) decoded, pg_b64_dec_len(compact_len));
	pfree(compact);
	if (*decoded_len <= 0)
	{
		pfree(decoded);
		return NULL;
	}
	return decoded;
}

/* Whether a public key is on NIST P-256 (prime256v1). */
static bool
public_key_is_p256(EVP_PKEY *pkey)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	char		group[64];
	size_t		group_len;

	return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
		EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) == 1 &&
		strcmp(group, SN_X9_62_prime256v1) == 0;
#else
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);

	return ec != NULL && EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) == NID_X9_62_prime256v1;
#endif
}

/* What is wrong with a verification key, if anything. */
typedef enum KeyProblem
{
	KEY_OK,
	KEY_NOT_BASE64,
	KEY_NOT_DER,
	KEY_NOT_P256,
	KEY_PEM_PRIVATE,
	KEY_PEM_OTHER,
	KEY_PEM_UNTERMINATED
} KeyProblem;

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"
#define PEM_PUBLIC_KEY_END "-----END PUBLIC KEY-----"

/*
 * The base64 text of a key: the text itself, or the body of a PEM "PUBLIC
 * KEY" block (white space around it allowed).  NULL with *problem set for
 * PEM text holding a private key anywhere, a block of another kind (a
 * certificate: *label then points at its label, the rest of its first line
 * up to the dashes, *label_len its length) or a block without its end line.
 */
static char *
key_base64(const char *public_key, KeyProblem *problem, const char **label, int *label_len)
{
	const char *start = public_key;
	const char *body;
	const char *end;

	*problem = KEY_OK;
	while (scanner_isspace(*start))
		start++;
	if (strncmp(start, PEM_BEGIN, strlen(PEM_BEGIN)) != 0)
		return pstrdup(public_key);
	if (strstr(start, "PRIVATE KEY-----") != NULL)
	{
		*problem = KEY_PEM_PRIVATE;
		return NULL;
	}
	*label = start + strlen(PEM_BEGIN);
	*label_len = strcspn(*label, "-\r\n");
	if (*label_len != (int) strlen("PUBLIC KEY") || strncmp(*label, "PUBLIC KEY", *label_len) != 0 ||
		strncmp(*label + *label_len, PEM_DASHES, strlen(PEM_DASHES)) != 0)
	{
		*problem = KEY_PEM_OTHER;
		return NULL;
	}
	body = *label + *label_len + strlen(PEM_DASHES);
	end = strstr(body, PEM_PUBLIC_KEY_END);
	if (end == NULL)
	{
		*problem = KEY_PEM_UNTERMINATED;
		return NULL;
	}
	for (const char *rest = end + strlen(PEM_PUBLIC_KEY_END); *rest != '\0'; rest++)
	{
		if (!scanner_isspace(*rest))
		{
			*problem = KEY_PEM_UNTERMINATED;
			return NULL;
		}
	}
	return pnstrdup(body, end - body);
}

/*
 * The OpenSSL key of a base64 DER (or PEM) SubjectPublicKeyInfo on P-256,
 * which the caller frees with EVP_PKEY_free; NULL with *problem set
 * otherwise (and *label, *label_len for a PEM block of the wrong kind).
 */
static EVP_PKEY *
p256_public_key(const char *public_key, KeyProblem *problem, const char **label, int *label_len)
{
	char	   *encoded = key_base64(public_key, problem, label, label_len);
	int			der_len;
	unsigned char *der;
	const unsigned char *cursor;
	EVP_PKEY   *pkey;

	if (encoded == NULL)
		return NULL;
	der = base64_decode(encoded, &der_len);
	cursor = der;
	pfree(encoded);
	if (der == NULL)
	{
		*problem = KEY_NOT_BASE64;
		return NULL;
	}
	pkey = d2i_PUBKEY(NULL, &cursor, der_len);
	if (pkey == NULL || cursor != der + der_len)
		*problem = KEY_NOT_DER;
	else if (!public_key_is_p256(pkey))
		*problem = KEY_NOT_P256;
	pfree(der);
	if (*problem != KEY_OK)
	{
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* Whether bytes are exactly one DER ECDSA-Sig-Value. */
static bool
signature_is_der(const unsigned char *signature, int signature_len)
{
	const unsigned char *cursor = signature;
	ECDSA_SIG  *parsed = d2i_ECDSA_SIG(NULL, &cursor, signature_len);
	bool		whole = parsed != NULL && cursor == signature + signature_len;

	ECDSA_SIG_free(parsed);
	return whole;
}

/*
 * Whether signature is pkey's ECDSA signature of timestamp || payload:
 * OpenSSL's 1 only (0 is a mismatch, -1 an error, such as for a BER
 * signature the DER check let through).  Never ereports; frees all it
 * allocates; *openssl_failed tells a failure before the verification.
 */
static bool
ecdsa_sha256_verifies(EVP_PKEY *pkey, const unsigned char *signature, int signature_len,
					  const char *timestamp, const char *payload, size_t payload_len, bool *openssl_failed)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool		verified = false;

	*openssl_failed = ctx == NULL ||
		EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
		EVP_DigestVerifyUpdate(ctx, timestamp, strlen(timestamp)) != 1 ||
		EVP_DigestVerifyUpdate(ctx, payload, payload_len) != 1;
	if (!*openssl_failed)
		verified = EVP_DigestVerifyFinal(ctx, signature, signature_len) == 1;
	EVP_MD_CTX_free(ctx);
	return verified;
}

/*
 * Reports a key that is not a SendGrid verification key: what it is instead,
 * and what to paste.  Never quotes the key (it may be a private one); only a
 * PEM block's label, cut to 64 bytes.
 */
static void
ereport_key_problem(KeyProblem problem, const char *label, int label_len)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid SendGrid public key: %s",
					problem == KEY_NOT_BASE64 ? "not base64" :
					problem == KEY_NOT_DER ? "not a DER SubjectPublicKeyInfo" :
					problem == KEY_NOT_P256 ? "not an ECDSA key on NIST P-256" :
					problem == KEY_PEM_PRIVATE ? "a private key" :
					problem == KEY_PEM_OTHER ? "a PEM block that is not a public key" :
					"a PEM public key without its end line"),
			 problem == KEY_PEM_PRIVATE ?
			 errdetail("A private key is never stored here; it signs, and the signer is SendGrid.") :
			 problem == KEY_PEM_OTHER ?
			 errdetail("The PEM block is \"%s\"; a public key is \"PUBLIC KEY\".", quoted_prefix(label, label_len)) :
			 problem == KEY_PEM_UNTERMINATED ?
			 errdetail("A PEM public key ends with the line -----END PUBLIC KEY----- and nothing after it.") :
			 problem == KEY_NOT_BASE64 ?
			 errdetail("The text is neither base64 nor a PEM public key.") :
			 problem == KEY_NOT_DER ?
			 errdetail("The text is base64, but not of a DER public key (SubjectPublicKeyInfo).") :
			 errdetail("The key is not an ECDSA key on NIST P-256, the kind SendGrid signs with."),
			 errhint("Paste the Verification Key SendGrid shows in Settings > Mail Settings > Event Webhook once signature verification is on: base64 starting MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE; or the same key as PEM, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----, as openssl ec -pubout writes it.")));
}

/* Whether a webhook timestamp header is Unix seconds: 1 to 12 digits. */
static bool
timestamp_is_well_formed(const char *timestamp)
{
	int			len = strlen(timestamp);

	if (len == 0 || len > 12)
		return false;
	for (int i = 0; i < len; i++)
	{
		if (timestamp[i] < '0' || timestamp[i] > '9')
			return false;
	}
	return true;
}

/*
 * Whether signature (base64 DER) is SendGrid's signature of timestamp
 * followed by payload under public_key (base64 DER SubjectPublicKeyInfo).
 * A malformed key is an error; a malformed signature or timestamp, like a
 * signature that does not match, is false (as SendGrid's own libraries say).
 */
bool
sendgrid_signature_matches(const char *public_key, const char *payload, size_t payload_len,
						   const char *signature, const char *timestamp)
{
	KeyProblem	problem;
	const char *label = NULL;
	int			label_len = 0;
	EVP_PKEY   *pkey = p256_public_key(public_key, &problem, &label, &label_len);
	int			signature_len;
	unsigned char *signature_der;
	bool		verified;
	bool		openssl_failed = false;

	if (pkey == NULL)
		ereport_key_problem(problem, label, label_len);
	signature_der = base64_decode(signature, &signature_len);
	verified = timestamp_is_well_formed(timestamp) && signature_der != NULL &&
		signature_is_der(signature_der, signature_len) &&
		ecdsa_sha256_verifies(pkey, signature_der, signature_len, timestamp, payload, payload_len, &openssl_failed);
	EVP_PKEY_free(pkey);
	if (openssl_failed)
		elog(ERROR, "OpenSSL failed to verify an ECDSA signature");
	return verified;
}

/* Refuses a webhook whose timestamp (well formed: it was signed) is outside the tolerance: a replayed POST. */
void
sendgrid_signature_timestamp_check(const char *timestamp)
{
	int64		signed_at = strtoll(timestamp, NULL, 10);
	int64		now = (int64) timestamptz_to_time_t(GetCurrentTimestamp());

	if (signed_at < now - signature_tolerance_seconds || signed_at > now + signature_tolerance_seconds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("webhook timestamp is outside the accepted window"),
				 errdetail("The body was signed at Unix time %s, %lld seconds from now; mailstatus.signature_tolerance is %d seconds.",
						   timestamp, (long long) (signed_at - now), signature_tolerance_seconds),
				 errhint("A captured POST replayed later is refused. Check the server's clock if SendGrid's own POSTs are refused.")));
}

PG_FUNCTION_INFO_V1(verify_sendgrid_signature);
/* SQL: verify_sendgrid_signature(public_key, payload bytea, signature, timestamp) → boolean. */
Datum
verify_sendgrid_signature(PG_FUNCTION_ARGS)
{
	char	   *public_key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bytea	   *payload = PG_GETARG_BYTEA_PP(1);
	char	   *signature = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *timestamp = text_to_cstring(PG_GETARG_TEXT_PP(3));

	PG_RETURN_BOOL(sendgrid_signature_matches(public_key, VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
											  signature, timestamp));
}

PG_FUNCTION_INFO_V1(sendgrid_public_key_is_valid);
/* Whether text is a usable SendGrid verification key (a P-256 public key, base64 DER or PEM). */
Datum
sendgrid_public_key_is_valid(PG_FUNCTION_ARGS)
{
	KeyProblem	problem;
	const char *label = NULL;
	int			label_len = 0;
	EVP_PKEY   *pkey = p256_public_key(text_to_cstring(PG_GETARG_TEXT_PP(0)), &problem, &label, &label_len);

	EVP_PKEY_free(pkey);
	PG_RETURN_BOOL(pkey != NULL);
}

PG_FUNCTION_INFO_V1(sendgrid_public_key_checked);
/* True for a usable SendGrid verification key; otherwise an error saying what it is and what to paste. */
Datum
sendgrid_public_key_checked(PG_FUNCTION_ARGS)
{
	KeyProblem	problem;
	const char *label = NULL;
	int			label_len = 0;
	EVP_PKEY   *pkey = p256_public_key(text_to_cstring(PG_GETARG_TEXT_PP(0)), &problem, &label, &label_len);

	if (pkey == NULL)
		ereport_key_problem(problem, label, label_len);
	EVP_PKEY_free(pkey);
	PG_RETURN_BOOL(true);
}
