#!/bin/sh
echo "integration: 0 passed, 0 failed"
