"""Write src/kefu/services/access/common_passwords.txt: the passwords kefu refuses as too common.

The list is zxcvbn's (the 30,000 most common passwords of public breaches, as ranked by the zxcvbn
package; `pip install zxcvbn`, a development dependency) plus the words people around a Chinese
telecom operator reach for: pinyin phrases, the operators and their hotlines, this product. It ships
in the package, so nothing is fetched at run time. Run it again to refresh the list:

    .venv/bin/python tools/common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

OUT = Path(__file__).resolve().parents[1] / "src/kefu/services/access/common_passwords.txt"

#: Common in Chinese breaches (CSDN, 天涯 …) and around an operator's service centre.
_CHINESE = """
woaini woaini1314 woaini520 5201314 1314520 520520 aini1314 woaiwojia iloveyou
qq123456 a123456 a123456789 aa123456 abc123456 123456a 123456abc 123qwe 1qaz2wsx 1q2w3e4r
zxcvbnm asdfghjkl qazwsxedc dearbook xiazhili 147258369 789456123 31415926 110110110
zhangwei wangwei wangfang liwei lina zhangmin lijing wangjing liuyang wangyong zhangjie
nihao nihaoma zhongguo china chinese beijing shanghai guangzhou shenzhen tianjin chongqing
hangzhou nanjing wuhan chengdu xian shenyang huawei xiaomi tencent baidu alibaba taobao
chinamobile chinaunicom chinatelecom cmcc yidong liantong dianxin zhongguoyidong
zhongguoliantong zhongguodianxin 10086 10010 10000 kefu kefu123 kefuzhongxin
admin administrator root guest test user password mima mima123 kouling
"""


def main() -> None:
    words = {w.lower() for w in FREQUENCY_LISTS["passwords"] if len(w) >= 4 and w.isascii()}
    words |= {w.lower() for w in _CHINESE.split()}
    OUT.write_text(
        "# The passwords kefu refuses as too common (tools/common_passwords.py writes this file).\n"
        + "\n".join(sorted(words))
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(words)} passwords in {OUT}")


if __name__ == "__main__":
    main()
