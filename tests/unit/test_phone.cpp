// Phone numbers as members, merchants and admins type them: every spelling of
// one member's number must key the same records, and logs must never show one
// whole.
#include "daemon/campaign/phone.hpp"

#include <doctest/doctest.h>

#include <string>

using giftgate::mask_msisdn;
using giftgate::normalize_msisdn;

TEST_CASE("phone: every spelling of one mobile is the same member") {
  const std::string member = "8613800138000";
  for (std::string_view input : {
           "13800138000",
           "+8613800138000",
           "008613800138000",
           "8613800138000",
           "86 138 0013 8000",
           "+86 138-0013-8000",
           "138-0013-8000",
           "(+86) 138 0013 8000",
           "+86 (138) 0013.8000",
           "  13800138000\t",
           "\xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x91"
           "\xEF\xBC\x93\xEF\xBC\x98\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90",  // full-width digits
           "\xEF\xBC\x8B\xEF\xBC\x98\xEF\xBC\x96 138 0013 8000",          // full-width +86
           "\xEF\xBC\x8B" "86\xE3\x80\x80" "138\xEF\xBC\x8D" "0013\xEF\xBC\x8D" "8000",
           "\xEF\xBC\x88" "+86\xEF\xBC\x89" "13800138000",                 // full-width brackets
       }) {
    CAPTURE(input);
    CHECK(normalize_msisdn(input) == member);
  }
}

TEST_CASE("phone: letters, symbols and broken text are rejected") {
  for (std::string_view input : {
           "",
           "   ",
           "abc",
           "1380013800a",
           "tel:+8613800138000",
           "13800138000#",
           "1380013800O",         // a letter O
           "+86+13800138000",     // two pluses
           "86+13800138000",      // plus after digits
           "13800138000+",
           "\xFF" "13800138000",  // not UTF-8
           "\xC0\xB1" "3800138000",  // overlong '1'
           "\xEF\xBC",            // cut-off sequence
           "138\xE2\x82\xAC" "00138000",  // euro sign
       }) {
    CAPTURE(input);
    CHECK_FALSE(normalize_msisdn(input));
  }
}

TEST_CASE("phone: too short or too long") {
  CHECK_FALSE(normalize_msisdn("123456"));
  CHECK_FALSE(normalize_msisdn("+123456"));
  CHECK_FALSE(normalize_msisdn("12580"));                  // a service code
  CHECK(normalize_msisdn("+1234567") == "1234567");        // 7 digits, E.164's minimum here
  CHECK(normalize_msisdn("+123456789012345") == "123456789012345");
  CHECK_FALSE(normalize_msisdn("+1234567890123456"));      // 16 digits
  CHECK_FALSE(normalize_msisdn("00123456789012345678"));
  CHECK_FALSE(normalize_msisdn(std::string(200, '1')));
}

TEST_CASE("phone: Chinese numbers must fit the national plan") {
  CHECK_FALSE(normalize_msisdn("1380013800"));        // a mobile missing a digit
  CHECK_FALSE(normalize_msisdn("138001380001"));      // one too many
  CHECK_FALSE(normalize_msisdn("+861380013800"));     // the same after +86
  CHECK_FALSE(normalize_msisdn("+8613800138000123"));
  CHECK_FALSE(normalize_msisdn("23800138000"));       // 11 digits, not a mobile
  CHECK_FALSE(normalize_msisdn("02112345678"));       // a landline: members use mobiles
  CHECK_FALSE(normalize_msisdn("+86013800138000"));   // trunk 0 after the country code
  CHECK(normalize_msisdn("+861012345678") == "861012345678");  // Beijing landline, 010
  CHECK(normalize_msisdn("+862112345678") == "862112345678");  // Shanghai landline, 021
  CHECK(normalize_msisdn("19912345678") == "8619912345678");
}

TEST_CASE("phone: international numbers of other countries") {
  CHECK(normalize_msisdn("+44 7700 900123") == "447700900123");
  CHECK(normalize_msisdn("0044 7700 900123") == "447700900123");
  CHECK(normalize_msisdn("+852 9123 4567") == "85291234567");
  CHECK_FALSE(normalize_msisdn("+0123456789"));  // no country code starts with 0
  CHECK_FALSE(normalize_msisdn("000123456789"));
}

TEST_CASE("phone: national numbers with another default country") {
  CHECK(normalize_msisdn("07700 900123", "44") == "447700900123");
  CHECK(normalize_msisdn("447700900123", "44") == "447700900123");
  CHECK(normalize_msisdn("(202) 555-0123", "1") == "12025550123");
  CHECK(normalize_msisdn("1 202 555 0123", "1") == "12025550123");
  CHECK(normalize_msisdn("+8613800138000", "44") == "8613800138000");
}

TEST_CASE("phone: a national number needs a usable default country") {
  CHECK_FALSE(normalize_msisdn("13800138000", ""));
  CHECK_FALSE(normalize_msisdn("13800138000", "abc"));
  CHECK_FALSE(normalize_msisdn("13800138000", "0086"));
  CHECK(normalize_msisdn("+8613800138000", "") == "8613800138000");
}

TEST_CASE("phone: masking keeps the country, operator and last digits") {
  CHECK(mask_msisdn("8613800138000") == "86138****8000");
  CHECK(mask_msisdn("13800138000") == "138****8000");
  CHECK(mask_msisdn("+8613800138000") == "+86138****8000");
  CHECK(mask_msisdn("86 138 0013 8000") == "86138****8000");
  CHECK(mask_msisdn("\xEF\xBC\x8B\xEF\xBC\x98\xEF\xBC\x96 138 0013 8000") == "+86138****8000");
  CHECK(mask_msisdn("447700900123") == "4477****0123");
  CHECK(mask_msisdn("123456789012345") == "12345******2345");
  CHECK(mask_msisdn("1234567") == "12***67");
  CHECK(mask_msisdn("1234567890") == "12******90");
}

TEST_CASE("phone: short numbers and garbage are fully starred") {
  CHECK(mask_msisdn("") == "");
  CHECK(mask_msisdn("12580") == "*****");
  CHECK(mask_msisdn("123456") == "******");
  CHECK(mask_msisdn("hello") == "*****");
  CHECK(mask_msisdn("tel:13800138000") == "***************");
  CHECK(mask_msisdn(std::string(100, 'x')) == std::string(16, '*'));
  CHECK(mask_msisdn(std::string(40, '7')) == std::string(16, '*'));  // too long for E.164
  CHECK(mask_msisdn(std::string_view("\xFF\xFE\x00\x01", 4)) == "****");
}

TEST_CASE("phone: a mask never shows every digit of a number") {
  for (std::string_view input : {"8613800138000", "13800138000", "1234567", "+1234567",
                                 "123456789012345", "447700900123", "1", "12", "123456"}) {
    CAPTURE(input);
    const std::string masked = mask_msisdn(input);
    CHECK(masked.find('*') != std::string::npos);
    std::string digits;
    for (char c : input)
      if (c >= '0' && c <= '9') digits += c;
    CHECK(masked.find(digits) == std::string::npos);
  }
}
