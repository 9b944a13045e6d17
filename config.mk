# See LICENSE file for copyright and license details.
# oai version and build configuration; override on the command line.

PREFIX    = /usr/local
MANPREFIX = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

CC      = cc
PKG_CONFIG = pkg-config

# User CFLAGS/LDFLAGS stay additive: the flags the build needs are in
# OAI_CFLAGS and are always applied.
CFLAGS  = -O2 -g
LDFLAGS =

CURL_CFLAGS = `$(PKG_CONFIG) --cflags libcurl`
CURL_LIBS   = `$(PKG_CONFIG) --libs libcurl`
