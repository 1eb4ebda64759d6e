/*
 * SendGrid's Signed Event Webhook: ECDSA over NIST P-256 with SHA-256 of the
 * timestamp header's bytes followed by the raw body's bytes.  The public key
 * is base64 DER SubjectPublicKeyInfo, the signature base64 DER
 * ECDSA-Sig-Value.  OpenSSL objects are malloc'd: every path frees them
 * before any ereport can longjmp past.
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
#include "utils/timestamp.h"

#include "signature.h"

int			signature_tolerance_seconds = 300;

/* Outcome of an ECDSA check, decided before anything is reported. */
typedef enum SignatureOutcome
{
	SIGNATURE_MATCHES,
	SIGNATURE_DIFFERS,
	SIGNATURE_KEY_NOT_DER,
	SIGNATURE_KEY_NOT_P256,
	SIGNATURE_NOT_DER,
	SIGNATURE_OPENSSL_FAILED
} SignatureOutcome;

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
	*decoded_len = pg_b64_decode(compact, compact_len, (char *) decoded, pg_b64_dec_len(compact_len));
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

/* Checks the signature of timestamp || payload; never ereports, frees all it allocates. */
static SignatureOutcome
ecdsa_p256_sha256_verify(const unsigned char *key_der, int key_len,
						 const unsigned char *signature, int signature_len,
						 const char *timestamp, const char *payload, size_t payload_len)
{
	const unsigned char *cursor = key_der;
	EVP_PKEY   *pkey = d2i_PUBKEY(NULL, &cursor, key_len);
	EVP_MD_CTX *ctx;
	SignatureOutcome outcome;
	int			verified;

	if (pkey == NULL || cursor != key_der + key_len)
	{
		EVP_PKEY_free(pkey);
		return SIGNATURE_KEY_NOT_DER;
	}
	if (!public_key_is_p256(pkey))
	{
		EVP_PKEY_free(pkey);
		return SIGNATURE_KEY_NOT_P256;
	}
	if (!signature_is_der(signature, signature_len))
	{
		EVP_PKEY_free(pkey);
		return SIGNATURE_NOT_DER;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL ||
		EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
		EVP_DigestVerifyUpdate(ctx, timestamp, strlen(timestamp)) != 1 ||
		EVP_DigestVerifyUpdate(ctx, payload, payload_len) != 1)
		outcome = SIGNATURE_OPENSSL_FAILED;
	else
	{
		verified = EVP_DigestVerifyFinal(ctx, signature, signature_len);
		outcome = verified == 1 ? SIGNATURE_MATCHES : SIGNATURE_DIFFERS;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return outcome;
}

/* Reports a malformed timestamp header. */
static void
check_timestamp_format(const char *timestamp)
{
	int			len = strlen(timestamp);

	for (int i = 0; i < len; i++)
	{
		if (timestamp[i] < '0' || timestamp[i] > '9')
			len = 0;
	}
	if (len == 0 || len > 12)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid webhook timestamp: \"%s\"", timestamp),
				 errdetail("X-Twilio-Email-Event-Webhook-Timestamp is Unix time in seconds, digits only.")));
}

/*
 * Whether signature (base64 DER) is SendGrid's signature of timestamp
 * followed by payload under public_key (base64 DER SubjectPublicKeyInfo).
 * Malformed inputs are errors; a well-formed signature that does not match
 * is false.
 */
bool
sendgrid_signature_matches(const char *public_key, const char *payload, size_t payload_len,
						   const char *signature, const char *timestamp)
{
	int			key_len;
	int			signature_len;
	unsigned char *key_der;
	unsigned char *signature_der;
	SignatureOutcome outcome;

	check_timestamp_format(timestamp);
	key_der = base64_decode(public_key, &key_len);
	if (key_der == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SendGrid public key: not base64"),
				 errdetail("The verification key in SendGrid's Mail Settings is base64 of a DER public key; it starts with MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE.")));
	signature_der = base64_decode(signature, &signature_len);
	if (signature_der == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid webhook signature: not base64"),
				 errdetail("X-Twilio-Email-Event-Webhook-Signature is base64 of a DER ECDSA signature.")));

	outcome = ecdsa_p256_sha256_verify(key_der, key_len, signature_der, signature_len,
									   timestamp, payload, payload_len);
	switch (outcome)
	{
		case SIGNATURE_MATCHES:
			return true;
		case SIGNATURE_DIFFERS:
			return false;
		case SIGNATURE_KEY_NOT_DER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SendGrid public key: not a DER SubjectPublicKeyInfo"),
					 errdetail("The verification key in SendGrid's Mail Settings starts with MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE.")));
			break;
		case SIGNATURE_KEY_NOT_P256:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SendGrid public key: not an ECDSA key on NIST P-256")));
			break;
		case SIGNATURE_NOT_DER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid webhook signature: not a DER ECDSA signature")));
			break;
		case SIGNATURE_OPENSSL_FAILED:
			elog(ERROR, "OpenSSL failed to verify an ECDSA signature");
			break;
	}
	return false;
}

/* Refuses a webhook whose timestamp is outside the tolerance: a replayed POST. */
void
sendgrid_signature_timestamp_check(const char *timestamp)
{
	int64		signed_at;
	int64		now;

	check_timestamp_format(timestamp);
	signed_at = strtoll(timestamp, NULL, 10);
	now = (int64) timestamptz_to_time_t(GetCurrentTimestamp());
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
/* Whether text is a usable SendGrid verification key (base64 DER P-256 public key). */
Datum
sendgrid_public_key_is_valid(PG_FUNCTION_ARGS)
{
	char	   *public_key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			key_len;
	unsigned char *key_der = base64_decode(public_key, &key_len);
	const unsigned char *cursor = key_der;
	EVP_PKEY   *pkey;
	bool		valid;

	if (key_der == NULL)
		PG_RETURN_BOOL(false);
	pkey = d2i_PUBKEY(NULL, &cursor, key_len);
	valid = pkey != NULL && cursor == key_der + key_len && public_key_is_p256(pkey);
	EVP_PKEY_free(pkey);
	PG_RETURN_BOOL(valid);
}
