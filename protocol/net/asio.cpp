// The one translation unit that compiles Boost.Asio and its SSL support; every
// other file includes Asio headers only (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
