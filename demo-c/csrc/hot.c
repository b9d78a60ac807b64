#include <stddef.h>
#include <stdint.h>

/* A checksum over text that dispatches each byte through a table of
   operations (an indirect call, as codecs and interpreters do) and scores it
   with a branchy classifier. */
typedef uint64_t (*op_fn)(uint64_t, uint64_t);

static uint64_t op_add(uint64_t h, uint64_t v) { return h + v * 0x9e3779b97f4a7c15ULL; }
static uint64_t op_xor(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL; }
static uint64_t op_rot(uint64_t h, uint64_t v) { return (h << 5 | h >> 59) + v; }
static uint64_t op_mul(uint64_t h, uint64_t v) { return h * (v | 1); }
static uint64_t op_sub(uint64_t h, uint64_t v) { return h - (v << 3); }
static uint64_t op_swp(uint64_t h, uint64_t v) { return __builtin_bswap64(h) ^ v; }
static uint64_t op_neg(uint64_t h, uint64_t v) { return ~h + v; }
static uint64_t op_sqr(uint64_t h, uint64_t v) { return h * h + v; }

static op_fn OPS[8] = {op_add, op_xor, op_rot, op_mul, op_sub, op_swp, op_neg, op_sqr};

/* Which operation a byte gets: letters mostly one of two, the rest spread. */
static unsigned pick(unsigned char c) {
    if (c >= 'a' && c <= 'z') return (c & 1) ? 0 : 1;
    if (c == ' ') return 2;
    if (c >= '0' && c <= '9') return 3 + (c & 1);
    if (c >= 'A' && c <= 'Z') return 5;
    if (c == '.' || c == ',') return 6;
    return 7;
}

static uint64_t weight(unsigned char c, uint64_t i) {
    uint64_t w = c;
    if (c >= 'a' && c <= 'z') {
        if (c == 'e' || c == 't' || c == 'a') w += 3;
        else if (c == 'q' || c == 'z' || c == 'x') w *= 5;
        else w += i & 3;
    } else if (c >= '0' && c <= '9') {
        w = (w - '0') * 10 + (i & 7);
        if (w > 50) w -= 17;
    } else if (c == ' ') {
        w = i % 13;
    } else if (c >= 128) {
        w = w * w + i;
        if (w & 1) w ^= 0xabcdef;
        else w += 0x12345;
        w = (w >> 3) | (w << 61);
    } else {
        w = w * 31 + (i >> 2);
        if (w % 7 == 0) w += 1;
    }
    return w;
}

uint64_t hot_checksum(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        h = OPS[pick(c)](h, weight(c, i));
    }
    return h;
}
