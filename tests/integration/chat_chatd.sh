#!/bin/bash
# ipcbox chat against ipcbox chatd: the same cases chat_client.sh runs
# against ngircd (two scripted clients, /nick /me /msg /quit, escapes
# neutralised, exit codes, the terminal run), so client and server agree.
CHAT_SERVER=chatd exec bash "$(dirname "$0")/chat_client.sh"
